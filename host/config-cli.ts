// `moat config`: check a config file, or compile it to the module's 256-byte config blob (raw, or
// as C source for a board's firmware).
import { writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { MoatConfig } from './types.ts';
import { ConfigError, compileConfig, loadConfig, moduleRules } from './config.ts';
import { describeRule } from './defense.ts';
import { formatDuration, formatSize } from './units.ts';

const USAGE = `usage: moat config check FILE
       moat config compile FILE [-o OUT] [--c]
  check     validate FILE (JSON5) against the schema and the module; prints "FILE: ok" and a summary
  compile   write the module's config blob (256 bytes, 64 little-endian words, "MAT1" first)
    -o OUT  output file (default: FILE with .bin, or .c with --c; "-" = stdout)
    --c     write C source: const unsigned char moat_config[256] = {...};`;

export async function configCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) return usage('missing subcommand: check or compile (moat config --help)');
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (sub === 'check') return check(rest);
  if (sub === 'compile') return compile(rest);
  return usage(`unknown subcommand "${sub}" (check, compile)`);
}

function usage(reason: string): number {
  process.stderr.write(`moat config: ${reason}\n`);
  return 2;
}

/** Loads FILE; a ConfigError becomes one line on stderr. */
function load(file: string): MoatConfig | null {
  try {
    return loadConfig(file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // Key errors get the file name in front; file-level errors (syntax, unreadable) already have it.
    process.stderr.write(`${e.key === null ? e.message : `${file}: ${e.message}`}\n`);
    return null;
  }
}

function check(args: string[]): number {
  const files: string[] = [];
  for (const a of args) {
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); return 0; }
    if (a.startsWith('-') && a !== '-') return usage(`check: unknown option ${a}`);
    files.push(a);
  }
  if (files.length !== 1) return usage(files.length === 0 ? 'check: missing FILE' : 'check: one FILE at a time');
  const cfg = load(files[0]);
  if (!cfg) return 1;
  process.stdout.write(`${files[0]}: ok\n${summary(cfg).map((l) => `  ${l}\n`).join('')}`);
  return 0;
}

/** A few lines a person can eyeball: where it listens, the main limits and timeouts. */
export function summary(cfg: MoatConfig): string[] {
  const w = cfg.web, l = w.limits, t = w.timeouts;
  const ep = (e: MoatConfig['web']['listen'][number]) => `${e.scheme}://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
  return [
    `listen: ${w.listen.map(ep).join(', ')}`,
    `documents: ${w.documents ?? 'none'}`,
    `limits: connections ${l.connections} (${l.clientConnections} per client), uri ${formatSize(l.uri)}, header ${formatSize(l.header)} / ${l.headers} fields, body ${formatSize(l.body)}, form ${formatSize(l.form)}, upload ${formatSize(l.upload)}; input window ${formatSize(cfg.moat.window)}`,
    `timeouts: parse ${formatDuration(t.parse)}, inactivity ${formatDuration(t.inactivity)}, request ${formatDuration(t.request)}, session ${formatDuration(t.session)}, tls ${formatDuration(t.tls)}`,
    `routes: ${w.routes.map((r) => `${r.match || '/'} ${r.methods?.join('|') ?? 'any'} → ${r.handler}${r.role ? ` (${r.role})` : ''}`).join(', ') || 'none'}`,
    `tls: ${cfg.tls ? `${cfg.tls.certificate}${cfg.tls.hsts ? `, HSTS ${cfg.tls.hsts.maxAge} s` : ''}` : 'off'}; stealth ${cfg.moat.stealth ? 'on' : 'off'}`,
    `defense: ${cfg.moat.defense.clients} client records; ${moduleRules(cfg).map((r, i) => describeRule(r, i).replace(/^rule \d+: /, '')).join('; ') || 'no rules'}`,
    `auth: ${cfg.auth.users ?? 'no users file'}; sessions ${w.sessions.enable ? `at most ${l.sessions}, idle ${formatDuration(w.sessions.timeout)}` : 'off'}`,
  ];
}

function compile(args: string[]): number {
  let out: string | undefined, cSource = false;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-o' || a === '--output') {
      out = args[++i];
      if (out === undefined || out === '') return usage(`compile: ${a} needs a file name`);
    } else if (a === '--c') cSource = true;
    else if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); return 0; }
    else if (a.startsWith('-') && a !== '-') return usage(`compile: unknown option ${a}`);
    else files.push(a);
  }
  if (files.length !== 1) return usage(files.length === 0 ? 'compile: missing FILE' : 'compile: one FILE at a time');
  const file = files[0];
  const cfg = load(file);
  if (!cfg) return 1;
  let blob: Uint8Array;
  try {
    blob = compileConfig(cfg);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${file}: ${e.message}\n`);
    return 1;
  }
  const data: Uint8Array | string = cSource ? cArray(blob, basename(file)) : blob;
  if (out === '-') {
    process.stdout.write(data);
    return 0;
  }
  const target = out ?? file.slice(0, file.length - extname(file).length) + (cSource ? '.c' : '.bin');
  try {
    writeFileSync(target, data);
  } catch (e) {
    process.stderr.write(`moat config: cannot write ${target}: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${file} → ${target} (${cSource ? 'C source, ' : ''}${blob.length} bytes)\n`);
  return 0;
}

/** The blob as C source: 16 bytes a line. */
export function cArray(blob: Uint8Array, from: string): string {
  const lines: string[] = [];
  for (let i = 0; i < blob.length; i += 16) {
    lines.push('  ' + Array.from(blob.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ') + ',');
  }
  return [
    `/* Moat module config compiled from ${from.replace(/\*\//g, '* /')} by \`moat config compile --c\`:`,
    ` * ${blob.length / 4} little-endian u32 words, the first "MAT1". Copy it to configPtr() before init(). */`,
    `const unsigned char moat_config[${blob.length}] = {`,
    ...lines,
    '};',
    `const unsigned int moat_config_len = ${blob.length};`,
    '',
  ].join('\n');
}
