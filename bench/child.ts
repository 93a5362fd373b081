// Runs one in-process benchmark in a fresh child process (its own JIT and heap) and sends the
// result to the parent over IPC: `child.ts NAME JSON_OPTIONS`.
import { latency } from './latency.ts';
import { memory } from './memory.ts';

const [name, json] = process.argv.slice(2);
const opts = JSON.parse(json ?? '{}');
const run = { latency, memory } as Record<string, (o: never) => Promise<unknown>>;
if (!run[name]) throw new Error(`unknown benchmark ${name}`);
const result = await run[name](opts as never);
process.send!(result, () => process.exit(0));
