// `moat inspect`: JSON Lines in, one JSON line out per input line, in order.
import { createInterface } from 'node:readline';
import type { Moat } from './module.ts';
import { ENGINE_NAMES, isEngineName, loadEngine } from './engines.ts';
import { inspectConnection, type Limits } from './inspect.ts';

const USAGE = `usage: moat inspect [--bytewise] [--engine v8|wasm3|wamr-fast|wamr-classic]
Reads JSON Lines on stdin: {"id": any, "raw_b64": "<bytes of one connection>", "limits"?: {...}}
and writes one line per input: {"id", "requests": [...], "error": null | {"status", "reason"}}.
  --bytewise   feed one byte per feed() call
  --engine E   v8 (default), or a board simulator: wasm3, wamr-fast, wamr-classic (the same
               module in that interpreter; built into .cache/engines on first use, which needs
               pip, cargo, cmake and a C compiler)`;

export async function inspectCommand(args: string[], input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<number> {
  let bytewise = false, engine = 'v8';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--bytewise') bytewise = true;
    else if (a === '--engine') engine = args[++i] ?? '';
    else if (a === '--help' || a === '-h') { output.write(USAGE + '\n'); return 0; }
    else { process.stderr.write(`moat inspect: unknown argument ${a}\n${USAGE}\n`); return 2; }
  }
  if (!isEngineName(engine)) { process.stderr.write(`moat inspect: unknown engine "${engine}" (engines: ${ENGINE_NAMES.join(', ')})\n`); return 2; }
  let moat;
  try {
    moat = await loadEngine(engine);
  } catch (e) {
    process.stderr.write(`moat inspect: engine ${engine} is not available: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const lines = createInterface({ input, crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      output.write(JSON.stringify(inspectLine(moat, line, bytewise)) + '\n');
    }
  } finally {
    moat.dispose();
  }
  return 0;
}

function inspectLine(moat: Moat, line: string, bytewise: boolean): object {
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
