// `moat oplog`: check the operation log's hash chain (host/oplog.ts), or show its last records.
import { MAX_READ, OpLogError, readKeyFile, readOpLog, verifyOpLog, type OpRecord } from './oplog.ts';
import { showValue } from './units.ts';

const USAGE = `usage: moat oplog verify FILE [--key-file F]
       moat oplog show FILE [--last N] [--json]
  verify  check every record of FILE: JSON shape, sequence, hash chain, hashes; prints
          "FILE: ok, N records, head HASH" or "FILE:LINE: reason" for the first bad line
    --key-file F  the log's HMAC key (the file's bytes less one trailing newline; mode 600).
                  Without the key a log written without one is checked for accidents and
                  careless edits only: anyone who can write FILE can rewrite it and its hashes.
  show    the last records as a table (does not verify them: run verify for that)
    --last N      how many (default 20, at most ${MAX_READ})
    --json        a JSON array of the records instead
Verify's head hash names the log's state: note it, and a later verify proves nothing was cut off the end.
Exit status: 0 ok, 1 a bad record or an unreadable file, 2 usage.`;

const DEFAULT_LAST = 20;
const HEAD_PREFIX = 16;

interface Parsed { files: string[]; keyFile?: string; last?: number; json: boolean }

const OPTIONS: Record<string, string[]> = {
  verify: ['--key-file'],
  show: ['--last', '--json'],
};

export async function oplogCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) return usage('missing subcommand: verify or show (moat oplog --help)');
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!(sub in OPTIONS)) return usage(`unknown subcommand ${showValue(sub)} (verify, show)`);
  const p = parse(sub, rest);
  if (typeof p === 'number') return p;
  try {
    return sub === 'verify' ? verify(p.files[0], p.keyFile) : show(p.files[0], p.last ?? DEFAULT_LAST, p.json);
  } catch (e) {
    if (!(e instanceof OpLogError)) throw e;
    // OpLogError messages already start with the file they are about.
    process.stderr.write(`moat oplog ${sub}: ${e.message}\n`);
    return 1;
  }
}

function usage(reason: string): number {
  process.stderr.write(`moat oplog: ${reason}\n`);
  return 2;
}

/** Options and FILE; a number is the exit status of a usage error already reported. */
function parse(sub: string, args: string[]): Parsed | number {
  const p: Parsed = { files: [], json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); return 0; }
    if (!a.startsWith('-') || a === '-') { p.files.push(a); continue; }
    if (!OPTIONS[sub].includes(a)) return usage(`${sub}: unknown option ${showValue(a)} (moat oplog --help)`);
    if (a === '--json') { p.json = true; continue; }
    const v = args[++i];
    if (v === undefined || v === '' || v.startsWith('--')) return usage(`${sub}: ${a} needs a value`);
    if (a === '--key-file') {
      if (p.keyFile !== undefined) return usage(`${sub}: --key-file given twice`);
      p.keyFile = v;
    } else {
      if (p.last !== undefined) return usage(`${sub}: --last given twice`);
      if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > MAX_READ) {
        return usage(`${sub}: --last ${showValue(v)} — must be a whole number from 1 to ${MAX_READ}`);
      }
      p.last = Number(v);
    }
  }
  if (p.files.length !== 1) return usage(p.files.length === 0 ? `${sub}: missing FILE` : `${sub}: one FILE at a time`);
  return p;
}

function verify(file: string, keyFile: string | undefined): number {
  const key = keyFile === undefined ? undefined : readKeyFile(keyFile);
  const r = verifyOpLog(file, { key });
  if (r.ok) {
    process.stdout.write(`${file}: ok, ${r.records} record${r.records === 1 ? '' : 's'}, head ${r.head.slice(0, HEAD_PREFIX)}\n`);
    return 0;
  }
  // Every hash failing from line 1 is most often a keyed log checked without its key.
  const hint = !key && r.line === 1 && r.reason === 'hash mismatch' ? ' (if the log was written with a key, give it with --key-file)' : '';
  process.stderr.write(`${file}:${r.line}: ${r.reason}${hint}\n`);
  return 1;
}

function show(file: string, last: number, json: boolean): number {
  const recs = readOpLog(file, { limit: last });
  if (json) {
    process.stdout.write(JSON.stringify(recs) + '\n');
    return 0;
  }
  if (recs.length === 0) {
    process.stdout.write(`no records in ${file}\n`);
    return 0;
  }
  // Stored text has no control or invisible characters (readOpLog checks), so it prints as it is.
  const table = [['SEQ', 'TIME', 'ACTOR', 'ROLE', 'ACTION', 'TARGET', 'OUTCOME', 'CLIENT', 'DETAIL'], ...recs.map(row)];
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  process.stdout.write(table.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n') + '\n');
  return 0;
}

function row(r: OpRecord): string[] {
  // Stored backslashes are already doubled, so quoting needs only '"' escaped to stay unambiguous.
  const value = (v: string | number | boolean) => (typeof v === 'string' && /[\s="]|^$/.test(v) ? `"${v.replace(/"/g, '\\"')}"` : String(v));
  const detail = Object.entries(r.detail ?? {}).map(([k, v]) => `${k}=${value(v)}`).join(' ');
  return [String(r.seq), r.time, r.actor, r.role ?? '-', r.action, r.target ?? '-', r.outcome, r.client ?? '-', detail || '-'];
}
