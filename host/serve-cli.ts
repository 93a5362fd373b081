// `moat serve`: the server from a config file, or the embedded default config (the demo site).
import { loadConfig } from './config.ts';
import { startFromConfig } from './serve.ts';
import { unwatchFile, watchFile, type Stats } from 'node:fs';

const WATCH_MS = 500;
const RELOAD_SETTLE_MS = 150;

const USAGE = `usage: moat serve [--config FILE] [--port N]
Serves HTTP (and HTTPS when the config listens on https://) through the Moat module.
  --config FILE   JSON5 config (Ioto-style "web" section); default: the embedded demo config
  --port N        override the port of the first listen address (0 = any free port)
The config file is watched: a change (or SIGHUP) is applied while serving — routes, hosts, fields,
limits, timeouts, defense thresholds and a renewed TLS certificate at once; listeners, TLS on/off,
logs, table sizes, the users file's path and sessions after a restart — and a quick self-audit
follows. A bad file is refused, naming the key. SIGHUP also re-reads the certificate files.`;

function fail(msg: string): number {
  process.stderr.write(`moat serve: ${msg}\n`);
  return 2;
}

export async function serveCommand(args: string[]): Promise<number> {
  let file: string | undefined, port: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); return 0; }
    if (a === '--config') { file = args[++i]; if (!file) return fail('--config needs a file'); }
    else if (a === '--port') {
      const v = args[++i];
      port = Number(v);
      if (v === undefined || !/^\d+$/.test(v) || port > 65535) return fail(`--port must be 0..65535, got ${JSON.stringify(v ?? '')}`);
    } else return fail(`unknown argument ${JSON.stringify(a)} (see moat serve --help)`);
  }
  let cfg;
  try {
    cfg = loadConfig(file);
  } catch (e) {
    process.stderr.write(`moat serve: ${(e as Error).message}\n`);
    return 1;
  }
  if (port !== undefined) cfg.web.listen[0] = { ...cfg.web.listen[0], port };
  let running;
  try {
    running = await startFromConfig(cfg);
  } catch (e) {
    process.stderr.write(`moat serve: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  // A changed config file (or SIGHUP) is reloaded while serving; a bad one is refused by name.
  const load = () => {
    const c = loadConfig(file);
    if (port !== undefined) c.web.listen[0] = { ...c.web.listen[0], port };
    return c;
  };
  const reload = (why: string) => {
    const r = running.reload(load, why === 'SIGHUP' ? 'SIGHUP' : 'config-file');
    if (!r.ok) process.stderr.write(`moat serve: config reload refused (${why}): ${r.error}; the previous config keeps serving\n`);
    else if (r.plan.changed.length) {
      process.stdout.write(`moat: config reloaded (${why}): applied ${r.plan.live.join(', ') || 'nothing'}${r.plan.restart.length ? `; after a restart: ${r.plan.restart.join(', ')}` : ''}\n`);
    }
  };
  let pending: NodeJS.Timeout | undefined;
  const onFile = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size) return;
    clearTimeout(pending);
    pending = setTimeout(() => reload('file changed'), RELOAD_SETTLE_MS);    // an editor may write in several steps
  };
  if (file) watchFile(file, { interval: WATCH_MS, persistent: false }, onFile);
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  // Handlers first, then the "serving on" line: a supervisor may signal as soon as it reads it.
  const stopped = new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stdout.write(`moat: ${sig}: shutting down\n`);
      if (file) unwatchFile(file, onFile);
      clearTimeout(pending);
      process.off('SIGHUP', onHup);
      running.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  for (const a of running.server.addresses) {
    const host = a.host.includes(':') ? `[${a.host}]` : a.host;
    process.stdout.write(`moat: serving on ${a.scheme}://${host}:${a.port}/\n`);
  }
  process.stdout.write('moat: Ctrl-C stops (in-flight requests finish first)\n');
  await stopped;
  return 0;
}
