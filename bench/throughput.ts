// Server throughput: autocannon (npm) in this process against each server in its own child
// process, on 127.0.0.1, fixed duration and connection count, two request shapes. See
// bench/servers/server.ts for what each server sends.
import net from 'node:net';
import { writeFileSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { forkTs, loadMix, progress, stat, ratio, sleep, type Stat } from './lib.ts';
import type { ResponseSpec } from './servers/server.ts';

export const SERVERS = ['moat', 'moat-mem', 'node', 'raw'] as const;
export type ServerKind = (typeof SERVERS)[number];

export interface Shape { name: string; method: string; path: string; headers: Record<string, string>; bytes: Buffer }

/** minimal: a.http exactly. browser: b.http's field lines, target "/?lang=en&page=2" so it finds the demo page. */
export function shapes(): Shape[] {
  const mix = loadMix();
  const parse = (name: string, bytes: Buffer, path?: string): Shape => {
    const lines = bytes.toString('latin1').split('\r\n');
    const [method, target] = lines[0].split(' ');
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) { if (!l) break; const i = l.indexOf(':'); headers[l.slice(0, i)] = l.slice(i + 1).trim(); }
    const p = path ?? target;
    const head = [`${method} ${p} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
    return { name, method, path: p, headers, bytes: Buffer.from(head, 'latin1') };
  };
  return [parse('minimal GET', mix.a), parse('browser GET', mix.b, '/?lang=en&page=2')];
}

export interface ServerHandle { kind: ServerKind | 'moat-audit'; port: number; child: ChildProcess }

export function startServer(kind: ServerKind | 'moat-audit', specFile?: string): Promise<ServerHandle> {
  const child = forkTs('./servers/server.ts', specFile ? [kind, specFile] : [kind]);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${kind} server did not start`)); }, 20000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ kind, port: Number(m[1]), child }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${kind} server exited (${code})`)); });
  });
}

export function stopServer(s: ServerHandle): Promise<void> {
  return new Promise((r) => { if (s.child.exitCode !== null) return r(); s.child.once('exit', () => r()); s.child.kill('SIGTERM'); });
}

/** One raw request/response exchange: the response's bytes (Content-Length framed). */
export function exchange(port: number, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'));
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (buf.length >= total) { sock.destroy(); resolve(buf.subarray(0, total)); }
    });
    sock.on('error', reject);
    sock.write(request);
  });
}

/** moat's response to `request`, as a spec the node and raw servers replay. */
export function specOf(response: Buffer): ResponseSpec {
  const end = response.indexOf('\r\n\r\n');
  const lines = response.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const skip = new Set(['content-length', 'connection', 'keep-alive', 'date', 'transfer-encoding']);
  const fields = lines.slice(1).map((l) => { const i = l.indexOf(':'); return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string]; })
    .filter(([n]) => !skip.has(n.toLowerCase()));
  return { status, fields, body: response.subarray(end + 4).toString('base64'), raw: response.toString('base64') };
}

export interface ThroughputOptions { runs: number; seconds: number; warmupSeconds: number; connections: number }
export interface Cell {
  rps: Stat; p50: Stat; p99: Stat; errors: number; non2xx: number; timeouts: number;
  /** Server process CPU (user + system) per request, µs; null where /proc is missing. */
  cpuUs: Stat | null;
}
export interface ThroughputResult {
  connections: number; seconds: number; runs: number;
  response: { status: number; fields: [string, string][]; bodyBytes: number; headBytes: number };
  shapes: { name: string; path: string; bytes: number }[];
  cells: Record<string, Record<string, Cell>>;
  ratios: Record<string, Record<string, Stat>>;
  /** Server CPU per request ÷ node:http's, paired per run (below 1: less CPU than node:http). */
  cpuRatios: Record<string, Record<string, Stat>> | null;
}

/**
 * CPU time (user + system) a process has used, in µs, from /proc (Linux); null elsewhere. The
 * server's CPU per request barely moves when other work shares the machine, unlike req/s, which
 * also depends on how much CPU the load generator gets.
 */
function cpuUsOf(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = 100;   // USER_HZ: the unit of utime / stime in /proc/PID/stat on Linux

export function cannon(port: number, shape: Shape, seconds: number, connections: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({
      url: `http://127.0.0.1:${port}`, connections, duration: seconds, pipelining: 1,
      method: shape.method, path: shape.path, headers: shape.headers,
    }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export async function throughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const dir = mkdtempSync(join(tmpdir(), 'moat-bench-'));
  const started: ServerHandle[] = [];
  try {
    // What moat answers to both shapes: the other servers send exactly that.
    const moat = await startServer('moat');
    started.push(moat);
    const sh = shapes();
    const responses = [];
    for (const s of sh) responses.push(await exchange(moat.port, s.bytes));
    const spec = specOf(responses[0]);
    for (const [i, r] of responses.entries()) {
      const sp = specOf(r);
      if (sp.status !== 200 || sp.body !== spec.body) throw new Error(`moat answered ${sh[i].name} with ${sp.status}, not the demo page`);
    }
    const specFile = join(dir, 'response.json');
    writeFileSync(specFile, JSON.stringify(spec));
    for (const k of SERVERS) if (k !== 'moat') started.push(await startServer(k, specFile));
    const byKind = Object.fromEntries(started.map((s) => [s.kind, s])) as Record<ServerKind, ServerHandle>;
    // Same bytes from every server (apart from node's own Date / Connection / Keep-Alive).
    for (const k of SERVERS) {
      const r = specOf(await exchange(byKind[k].port, sh[0].bytes));
      if (r.status !== spec.status || r.body !== spec.body) throw new Error(`${k} does not send moat's response`);
    }
    progress(`throughput: servers up (${SERVERS.join(', ')}); response ${spec.status}, ${Buffer.from(spec.body, 'base64').length} B body, ${spec.fields.length} fields`);

    const samples: Record<string, Record<string, { rps: number[]; p50: number[]; p99: number[]; cpu: number[]; errors: number; non2xx: number; timeouts: number }>> = {};
    for (const s of sh) { samples[s.name] = {}; for (const k of SERVERS) samples[s.name][k] = { rps: [], p50: [], p99: [], cpu: [], errors: 0, non2xx: 0, timeouts: 0 }; }
    for (let run = 0; run < o.runs; run++) {
      for (const s of sh) {
        const order = run % 2 ? [...SERVERS].reverse() : SERVERS;
        for (const k of order) {
          if (run === 0 && o.warmupSeconds > 0) await cannon(byKind[k].port, s, o.warmupSeconds, o.connections);
          const cpu0 = cpuUsOf(byKind[k].child.pid);
          const r = await cannon(byKind[k].port, s, o.seconds, o.connections);
          const cpu1 = cpuUsOf(byKind[k].child.pid);
          const c = samples[s.name][k];
          c.rps.push(r.requests.average); c.p50.push(r.latency.p50); c.p99.push(r.latency.p99);
          if (cpu0 !== null && cpu1 !== null && r.requests.total > 0) c.cpu.push((cpu1 - cpu0) / r.requests.total);
          c.errors += r.errors; c.non2xx += r.non2xx; c.timeouts += r.timeouts;
          progress(`throughput: run ${run + 1}/${o.runs} ${s.name} ${k}: ${Math.round(r.requests.average).toLocaleString('en-US')} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms${c.cpu.length === c.rps.length ? `, server CPU ${c.cpu[c.cpu.length - 1].toFixed(1)} µs/req` : ''}${r.errors || r.non2xx ? `, ${r.errors} errors, ${r.non2xx} non-2xx` : ''}`);
          await sleep(200);
        }
      }
    }
    const cells: ThroughputResult['cells'] = {}, ratios: ThroughputResult['ratios'] = {};
    const measuredCpu = sh.every((s) => SERVERS.every((k) => samples[s.name][k].cpu.length === o.runs));
    const cpuRatios: ThroughputResult['cpuRatios'] = measuredCpu ? {} : null;
    for (const s of sh) {
      cells[s.name] = {};
      for (const k of SERVERS) {
        const c = samples[s.name][k];
        cells[s.name][k] = { rps: stat(c.rps), p50: stat(c.p50), p99: stat(c.p99), errors: c.errors, non2xx: c.non2xx, timeouts: c.timeouts, cpuUs: measuredCpu ? stat(c.cpu) : null };
      }
      const n = cells[s.name].node.rps;
      ratios[s.name] = Object.fromEntries(SERVERS.map((k) => [`${k}/node`, ratio(cells[s.name][k].rps, n)]));
      if (cpuRatios) cpuRatios[s.name] = Object.fromEntries(SERVERS.map((k) => [`${k}/node`, ratio(cells[s.name][k].cpuUs!, cells[s.name].node.cpuUs!)]));
    }
    const raw = Buffer.from(spec.raw, 'base64'), body = Buffer.from(spec.body, 'base64');
    return {
      connections: o.connections, seconds: o.seconds, runs: o.runs,
      response: { status: spec.status, fields: spec.fields, bodyBytes: body.length, headBytes: raw.length - body.length },
      shapes: sh.map((s) => ({ name: s.name, path: s.path, bytes: s.bytes.length })),
      cells, ratios, cpuRatios,
    };
  } finally {
    await Promise.all(started.map(stopServer));
    rmSync(dir, { recursive: true, force: true });
  }
}
