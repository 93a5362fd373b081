// `moat inspect`: JSON Lines in, one JSON line out per input line, in order.
import { createInterface } from 'node:readline';
import { loadMoat } from './module.ts';
import { inspectConnection, type Limits } from './inspect.ts';

const USAGE = `usage: moat inspect [--bytewise] [--engine v8]
Reads JSON Lines on stdin: {"id": any, "raw_b64": "<bytes of one connection>", "limits"?: {...}}
and writes one line per input: {"id", "requests": [...], "error": null | {"status", "reason"}}.
  --bytewise   feed one byte per feed() call
  --engine E   v8 (default)`;

export async function inspectCommand(args: string[], input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<number> {
  let bytewise = false, engine = 'v8';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--bytewise') bytewise = true;
    else if (a === '--engine') engine = args[++i] ?? '';
    else if (a === '--help' || a === '-h') { output.write(USAGE + '\n'); return 0; }
    else { process.stderr.write(`moat inspect: unknown argument ${a}\n${USAGE}\n`); return 2; }
  }
  if (engine !== 'v8') { process.stderr.write(`moat inspect: engine "${engine}" is not available (engines: v8)\n`); return 2; }
  const moat = await loadMoat();
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    output.write(JSON.stringify(inspectLine(moat, line, bytewise)) + '\n');
  }
  return 0;
}

function inspectLine(moat: Awaited<ReturnType<typeof loadMoat>>, line: string, bytewise: boolean): object {
  let id: unknown = null;
  try {
    const msg = JSON.parse(line);
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) throw new Error('line is not a JSON object');
    id = msg.id ?? null;
    if (typeof msg.raw_b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(msg.raw_b64)) throw new Error('raw_b64 is not a base64 string');
    const limits = msg.limits ?? {};
    if (typeof limits !== 'object' || Array.isArray(limits)) throw new Error('limits is not an object');
    for (const k of Object.keys(limits)) {
      if (!['uri_bytes', 'header_bytes', 'header_count', 'body_bytes', 'chunk_ext_bytes'].includes(k)) throw new Error(`unknown limit ${k}`);
    }
    const raw = Buffer.from(msg.raw_b64, 'base64');
    return { id, ...inspectConnection(moat, raw, { bytewise, limits: limits as Limits }) };
  } catch (e) {
    return { id, requests: [], error: { status: null, reason: `bad_input: ${(e as Error).message}` } };
  }
}
