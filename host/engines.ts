// The module in other engines than V8: the board simulators of boards/sim (wasm3, WAMR fast and
// classic interpreters, each running the exact bytes of build/moat.wasm through the C glue a firmware
// links). loadEngine() returns a real `Moat` whose exports are remote calls into a simulator, so
// Feeder, inspectConnection() and everything else that takes a Moat runs unchanged on any engine.
//
// How the remote Moat works: `Moat` reads and writes linear memory directly, so it gets a local
// shadow of the simulator's memory. Each call that the module answers through memory copies its
// outputs back into the shadow (feed: result + span records; respond: result + response head;
// tick: result; init: config blob; eventCount: the event ring). Input goes the other way: before
// feed and respond, the bytes of window[0, to) that changed since the simulator last saw them are
// sent (found by comparing the shadow with a mirror of what was sent). This relies on the ABI: the
// module never writes into the input window.
//
// Transport: a persistent child per engine, talking the line protocol of boards/sim/main.c over two
// named pipes read and written with blocking fs.readSync / fs.writeSync, so every call is
// synchronous like a Wasm call (POSIX only). A crashed simulator fails the call with its stderr.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CONFIG_WORDS, Moat, RESULT_WORDS, loadMoat, wasmBytes, type ModuleConfig } from './module.ts';

export const ENGINE_NAMES = ['v8', 'wasm3', 'wamr-fast', 'wamr-classic'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
export const SIM_ENGINE_NAMES = ['wasm3', 'wamr-fast', 'wamr-classic'] as const;

/**
 * What Feeder, RequestAssembler and inspectConnection() use of a module, as a structural type that
 * `Moat` satisfies. (loadEngine() returns a real Moat, so nothing needs this type to work.)
 */
export type ModuleLike = Pick<Moat,
  'configure' | 'defaults' | 'init' | 'write' | 'feed' | 'result' | 'spanKind' | 'spanText' | 'spanCopy'
  | 'span' | 'spanBytes' | 'open' | 'close' | 'inputPtr' | 'inputCap' | 'respond' | 'expired' | 'events'
  | 'eventCount' | 'bytes' | 'config' | 'highWater'>;

/** A Moat on some engine; dispose() ends a simulator (a no-op on V8). */
export type EngineMoat = Moat & { readonly engine: EngineName; readonly description: string; dispose(): void };

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function isEngineName(s: string): s is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(s);
}

/** Path of a simulator binary (built by boards/scripts/build-sim.mjs). */
export function simulatorPath(engine: Exclude<EngineName, 'v8'>): string {
  return join(ROOT, '.cache', 'engines', 'bin', `moat-sim-${engine}`);
}

/**
 * Builds (fetching the interpreter sources first) the simulator when it is missing or stale; a
 * no-op when it is current. Progress lines go to `log` (stderr by default).
 */
export async function ensureSimulator(engine: Exclude<EngineName, 'v8'>, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const script = join(ROOT, 'boards', 'scripts', 'build-sim.mjs');
  if (!existsSync(script)) {
    if (existsSync(simulatorPath(engine))) return simulatorPath(engine);
    throw new Error(`engine ${engine}: no simulator at ${simulatorPath(engine)} and no boards/scripts to build it`);
  }
  const build = await import(pathToFileURL(script).href) as {
    simReady(e: string): boolean;
    buildSims(e: string[], o: { log: (m: string) => void }): Promise<Record<string, string>>;
  };
  if (!build.simReady(engine)) {
    log(`moat: building the ${engine} simulator (first use; sources from PyPI / crates.io into .cache/engines) ...`);
    await build.buildSims([engine], { log: (m: string) => log(`moat: ${m}`) });
  }
  return simulatorPath(engine);
}

/**
 * The module on `name`, configured like loadMoat(config). `memoryLimit` (bytes, 0 = none) caps the
 * simulator's linear memory (moat_load_capped(): wasm3 allocates only that much of the page); without
 * it the simulator takes env MOAT_MEMORY_LIMIT. A config whose high-water mark is above the cap throws.
 */
export async function loadEngine(name: EngineName, config: Partial<ModuleConfig> = {}, opts: { log?: (line: string) => void; memoryLimit?: number } = {}): Promise<EngineMoat> {
  if (name === 'v8') {
    return Object.assign(await loadMoat(config), { engine: name, description: `V8 ${process.versions.v8}`, dispose() {} });
  }
  if (!isEngineName(name)) throw new Error(`unknown engine ${name} (${ENGINE_NAMES.join(', ')})`);
  const bin = await ensureSimulator(name, opts.log);
  const sim = new SimProcess(bin, name, opts.memoryLimit === undefined ? [] : ['--memory-limit', String(opts.memoryLimit)]);
  let moat: Moat;
  try {
    const x = new RemoteExports(sim);
    moat = new Moat(x as unknown as ConstructorParameters<typeof Moat>[0], config);
  } catch (e) {
    sim.dispose();
    throw e;
  }
  return Object.assign(moat, { engine: name, description: sim.description, dispose: () => sim.dispose() });
}

// ---------------------------------------------------------------------------------------------
// The child process and its pipes.

const SPIN_NS = 200_000n;

class SimProcess {
  private readonly dir: string;
  private readonly wfd: number;
  private rfd: number;
  private readonly nbfd: number;
  private readonly errPath: string;
  private readonly pid: number | undefined;
  private buf = Buffer.alloc(1 << 16);
  private have = 0;
  /** Commands that answer nothing (W, C), sent with the next command that answers. */
  private pending = '';
  private closed = false;
  readonly memoryBytes: number;
  readonly description: string;

  constructor(bin: string, readonly name: string, args: string[] = []) {
    this.dir = mkdtempSync(join(tmpdir(), 'moat-sim-'));
    const req = join(this.dir, 'req'), resp = join(this.dir, 'resp'), wasm = join(this.dir, 'moat.wasm');
    this.errPath = join(this.dir, 'stderr');
    writeFileSync(wasm, wasmBytes());
    const mk = spawnSync('mkfifo', [req, resp], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`engine ${name}: mkfifo failed: ${mk.error?.message ?? mk.stderr}`);
    // Request pipe: we hold it read-write, so opening it never blocks; the child reads it as stdin.
    this.wfd = openSync(req, constants.O_RDWR);
    const childIn = openSync(req, constants.O_RDONLY);
    // Response pipe: the child's stdout is the only writer, so a dead child reads as EOF.
    // Two read ends of it: non-blocking for a short spin, blocking after that (see readLine).
    this.nbfd = openSync(resp, constants.O_RDONLY | constants.O_NONBLOCK);
    const childOut = openSync(resp, constants.O_WRONLY);
    this.rfd = openSync(resp, constants.O_RDONLY);
    const childErr = openSync(this.errPath, 'w');
    const child = spawn(bin, [wasm, ...args], { stdio: [childIn, childOut, childErr] });
    child.on('error', () => { /* seen as EOF on the response pipe */ });
    child.unref();
    this.pid = child.pid;
    closeSync(childIn);
    closeSync(childOut);
    closeSync(childErr);
    const hello = this.readLine();
    const m = /^ok (\d+) (.*)$/.exec(hello);
    if (!m) throw new Error(`engine ${name}: ${hello.startsWith('E ') ? hello.slice(2) : hello}`);
    this.memoryBytes = Number(m[1]);
    this.description = m[2];
    process.once('exit', () => this.dispose());
  }

  /** Queues a command that answers nothing. */
  send(cmd: string): void {
    this.pending += cmd + '\n';
  }

  /** Sends a command (after any queued ones) and returns its answer line split on spaces. */
  call(cmd: string): string[] {
    if (this.closed) throw new Error(`engine ${this.name}: simulator closed`);
    const text = this.pending + cmd + '\n';
    this.pending = '';
    const bytes = Buffer.from(text, 'latin1');
    for (let at = 0; at < bytes.length;) at += writeSync(this.wfd, bytes, at);
    const line = this.readLine();
    if (line.startsWith('E ')) throw new Error(`engine ${this.name}: ${line.slice(2)} (after "${cmd.slice(0, 60)}")`);
    return line.split(' ');
  }

  private readLine(): string {
    let scanFrom = 0;
    for (;;) {
      const nl = this.buf.indexOf(10, scanFrom);
      if (nl >= 0 && nl < this.have) {
        const line = this.buf.toString('latin1', 0, nl);
        this.buf.copy(this.buf, 0, nl + 1, this.have);
        this.have -= nl + 1;
        return line;
      }
      scanFrom = this.have;
      if (this.have === this.buf.length) {
        const bigger = Buffer.alloc(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, this.have);
        this.buf = bigger;
      }
      const n = this.read();
      if (n === 0) {
        this.closed = true;
        let err = '';
        try { err = readFileSync(this.errPath, 'utf8').trim(); } catch { /* gone */ }
        throw new Error(`engine ${this.name}: the simulator exited${err ? `: ${err.slice(-2000)}` : ''}`);
      }
      this.have += n;
    }
  }

  /**
   * Reads what the child wrote. The answer usually comes within microseconds, but a reader blocked
   * in read(2) takes tens of microseconds to wake on another CPU of a virtual machine, more than the
   * call itself; so poll the non-blocking end for up to SPIN_NS first, then block.
   */
  private read(): number {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;      // EAGAIN errors are thrown; make them cheap
    try {
      let until = 0n;
      for (let i = 0; ; i++) {
        try {
          return readSync(this.nbfd, this.buf, this.have, this.buf.length - this.have, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
        if (i === 0) until = process.hrtime.bigint() + SPIN_NS;
        else if ((i & 7) === 0 && process.hrtime.bigint() > until) break;
      }
    } finally {
      Error.stackTraceLimit = limit;
    }
    return readSync(this.rfd, this.buf, this.have, this.buf.length - this.have, null);
  }

  dispose(): void {
    if (this.rfd < 0) return;
    this.closed = true;
    try { closeSync(this.wfd); } catch { /* already */ }
    try { closeSync(this.rfd); } catch { /* already */ }
    try { closeSync(this.nbfd); } catch { /* already */ }
    this.rfd = -1;
    if (this.pid) try { process.kill(this.pid); } catch { /* exited */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The module's exports as remote calls, over a shadow of its memory.

const HEX_CHUNK = 1 << 15;
const VERIFY = process.env.MOAT_ENGINE_VERIFY === '1';

class RemoteExports {
  readonly memory: WebAssembly.Memory;
  private readonly shadow: Buffer;
  private readonly u32: Uint32Array;
  /** What the simulator's input window holds, for window[0, valid). */
  private mirror = Buffer.alloc(0);
  private valid = 0;
  private p = { config: 0, result: 0, input: 0, cap: 0, spans: 0, out: 0, events: 0, eventsCap: 0, classes: 0 };

  constructor(private readonly sim: SimProcess) {
    const ab = new ArrayBuffer(sim.memoryBytes);
    this.memory = { buffer: ab } as WebAssembly.Memory;
    this.shadow = Buffer.from(ab);
    this.u32 = new Uint32Array(ab);
    const [config, result, input, cap, spans, out, events, eventsCap, classes] = sim.call('P').map(Number);
    this.p = { config, result, input, cap, spans, out, events, eventsCap, classes };
  }

  configPtr(): number { return this.p.config; }
  resultPtr(): number { return this.p.result; }
  inputPtr(): number { return this.p.input; }
  inputCap(): number { return this.p.cap; }
  spansPtr(): number { return this.p.spans; }
  outPtr(): number { return this.p.out; }
  eventsPtr(): number { return this.p.events; }
  eventsCap(): number { return this.p.eventsCap; }

  classesPtr(): number {
    this.fetch(this.p.classes, 256);
    return this.p.classes;
  }

  init(): number {
    const blob = this.shadow.subarray(this.p.config, this.p.config + CONFIG_WORDS * 4).toString('hex');
    const a = this.sim.call(`I ${blob}`);
    const hw = Number(a[0]);
    [this.p.input, this.p.cap, this.p.spans, this.p.result, this.p.out, this.p.events, this.p.eventsCap] = a.slice(1, 8).map(Number);
    this.shadow.write(a[8], this.p.config, 'hex');
    this.mirror = Buffer.alloc(this.p.cap);
    this.valid = 0;
    return hw;
  }

  status(code: number): number { return Number(this.sim.call(`S ${code >>> 0}`)[0]); }
  open(client: number, tls: number, now: number): number { return Number(this.sim.call(`O ${client >>> 0} ${tls} ${now >>> 0}`)[0]); }
  close(slot: number): void { this.sim.send(`C ${slot}`); }

  feed(slot: number, from: number, to: number, now: number): number {
    this.sync(to);
    const a = this.sim.call(`F ${slot} ${from} ${to} ${now >>> 0}`);
    this.setResult(a, 0);
    if (a.length > RESULT_WORDS) this.shadow.write(a[RESULT_WORDS], this.p.spans, 'hex');
    if (VERIFY && to > 0) this.verifyWindow(to);
    return Number(a[0]) | 0;
  }

  respond(slot: number, status: number, length: number, appLen: number, opts: number, now: number): number {
    this.sync(appLen);
    const a = this.sim.call(`R ${slot} ${status} ${length | 0} ${appLen} ${opts} ${now >>> 0}`);
    const n = Number(a[0]);
    this.setResult(a, 1);
    if (n > 0) this.shadow.write(a[1 + RESULT_WORDS], this.p.out, 'hex');
    return n;
  }

  tick(now: number, from: number): number {
    const a = this.sim.call(`T ${now >>> 0} ${from}`);
    this.setResult(a, 1);
    return Number(a[0]);
  }

  eventCount(): number {
    const [count, ptr, cap] = this.sim.call('N').map(Number);
    this.p.events = ptr;
    this.p.eventsCap = cap;
    this.fetch(ptr, cap * 12);
    return count;
  }

  /** MOAT_ENGINE_VERIFY=1: the simulator's window[0, to) must still equal the shadow after feed. */
  private verifyWindow(to: number): void {
    const theirs = Buffer.from(this.sim.call(`M ${this.p.input} ${to}`)[1] ?? '', 'hex');
    const ours = this.shadow.subarray(this.p.input, this.p.input + to);
    if (!theirs.equals(ours)) throw new Error(`engine ${this.sim.name}: the window differs from the host's copy after feed (to=${to})`);
  }

  private setResult(a: string[], at: number): void {
    const r = this.p.result >> 2;
    for (let i = 0; i < RESULT_WORDS; i++) this.u32[r + i] = Number(a[at + i]) >>> 0;
  }

  private fetch(addr: number, len: number): void {
    for (let at = 0; at < len; at += HEX_CHUNK) {
      const n = Math.min(HEX_CHUNK, len - at);
      this.shadow.write(this.sim.call(`M ${addr + at} ${n}`)[1] ?? '', addr + at, 'hex');
    }
  }

  /** Sends the bytes of window[0, to) that differ from what the simulator holds. */
  private sync(to: number): void {
    if (to <= 0) return;
    const win = this.shadow.subarray(this.p.input, this.p.input + this.p.cap);
    to = Math.min(to, this.p.cap);
    const known = Math.min(this.valid, to);
    const first = firstDiff(win, this.mirror, 0, known);
    if (first === to) return;
    const last = to > known ? to : lastDiff(win, this.mirror, first, known) + 1;
    for (let at = first; at < last; at += HEX_CHUNK) {
      const end = Math.min(last, at + HEX_CHUNK);
      this.sim.send(`W ${at} ${win.toString('hex', at, end)}`);
    }
    win.copy(this.mirror, first, first, last);
    if (last > this.valid) this.valid = last;
  }
}

/** First index in [lo, hi) where a and b differ, or hi. */
function firstDiff(a: Buffer, b: Buffer, lo: number, hi: number): number {
  if (lo >= hi || a.compare(b, lo, hi, lo, hi) === 0) return hi;
  while (hi - lo > 32) {
    const mid = (lo + hi) >> 1;
    if (a.compare(b, lo, mid, lo, mid) !== 0) hi = mid; else lo = mid;
  }
  for (; lo < hi; lo++) if (a[lo] !== b[lo]) return lo;
  return hi;
}

/** Last index in [lo, hi) where a and b differ (one is known to exist). */
function lastDiff(a: Buffer, b: Buffer, lo: number, hi: number): number {
  while (hi - lo > 32) {
    const mid = (lo + hi) >> 1;
    if (a.compare(b, mid, hi, mid, hi) !== 0) lo = mid; else hi = mid;
  }
  for (let i = hi - 1; i >= lo; i--) if (a[i] !== b[i]) return i;
  return lo;
}
