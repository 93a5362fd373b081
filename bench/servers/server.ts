// One benchmark server in its own process: `server.ts KIND [SPEC_FILE]`, prints `PORT <n>` on
// stdout once listening on 127.0.0.1, runs until killed.
//   moat      `moat serve`: startFromConfig on the embedded default config (demo site, file
//             handler), port 0, logs off; 64 connection slots and 64 per client so 50 load
//             connections from one address fit (the defaults are 50 and 10).
//   moat-mem  the same server, but GET / answered from memory by a handler (same fields and body
//             as the file handler sends) — the server without the file system, like node-http.
//   node      node:http createServer: the status, fields and body moat sends, from memory.
//   raw       node:net writing moat's exact response bytes for every request (the ceiling).
//   moat-audit  the `moat` server, plus quick self-audits (AuditService.run against its config)
//             run back to back in this process — where a server's own audit runs — between IPC
//             messages {audit: 'start'} and {audit: 'stop'}; the stop is answered with
//             {audits, durations, failed}.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ResponseSpec { status: number; fields: [string, string][]; body: string /* base64 */; raw: string /* base64 */ }

const [kind, specFile] = process.argv.slice(2);
const spec: ResponseSpec | null = specFile ? JSON.parse(readFileSync(specFile, 'utf8')) : null;
const need = () => { if (!spec) throw new Error(`${kind} needs a response spec`); return spec; };

async function moat(inMemory: boolean, audits = false): Promise<number> {
  const { loadConfig } = await import('../../host/config.ts');
  const { startFromConfig } = await import('../../host/serve.ts');
  const cfg = loadConfig();
  cfg.web.listen = [{ scheme: 'http', host: '127.0.0.1', port: 0 }];
  cfg.log = { access: { path: null, format: 'common' }, error: { path: null, level: 'error' }, security: { path: null } };
  // The load generator is one client sending far more than 1200 requests a minute: the rate rule
  // would answer it 429. It is switched off; the other defense rules still count every request.
  cfg.web.limits.clientRequests = 0;
  // The request shapes name example.com hosts (bench/mix): the device answers to them here, so the
  // Host allow-list still checks every request (its cost is measured) and lets them through.
  cfg.web.hosts = [...cfg.web.hosts, 'example.com', 'www.example.com'];
  cfg.moat.audit.schedule = false;                     // no self-audit in the middle of a measurement
  const handlers: Record<string, () => { status: number; fields: [string, string][]; body: Buffer }> = {};
  if (inMemory) {
    const s = need(), body = Buffer.from(s.body, 'base64');
    handlers.bench = () => ({ status: s.status, fields: s.fields, body });
    cfg.web.routes = [{ ...cfg.web.routes.find((r) => r.match === '/')!, handler: 'bench' }];
  }
  const running = await startFromConfig(cfg, { handlers, moduleOverrides: { slots: 64, client_connections: 64 } });
  if (audits) {
    // Its own service without the load's module overrides, so the shadow enforces the config's
    // caps exactly as a deployed server's would (the connection-cap probe measures them).
    const { AuditService } = await import('../../host/audit/service.ts');
    const service = new AuditService({ config: cfg });
    let on = false, loop: Promise<void> = Promise.resolve(), failed = 0;
    let durations: number[] = [];
    process.on('message', (m: { audit?: 'start' | 'stop' }) => {
      if (m.audit === 'start' && !on) {
        on = true; durations = []; failed = 0;
        loop = (async () => {
          while (on) {
            const t0 = performance.now();
            try { await service.run('quick', 'bench'); durations.push(performance.now() - t0); } catch { failed++; }
          }
        })();
      } else if (m.audit === 'stop') {
        on = false;
        void loop.then(() => process.send!({ audits: durations.length, durations, failed }));
      }
    });
  }
  return running.server.port;
}

function node(): Promise<number> {
  const s = need(), body = Buffer.from(s.body, 'base64');
  const server = http.createServer((_req, res) => {
    res.writeHead(s.status, [...s.fields, ['Content-Length', String(body.length)]].flat());
    res.end(body);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

function raw(): Promise<number> {
  const response = Buffer.from(need().raw, 'base64');
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let tail = '';
    socket.on('data', (chunk) => {
      // One response per request head (the load is GETs without bodies).
      const text = tail + chunk.toString('latin1');
      let n = 0, at = 0;
      for (;;) { const i = text.indexOf('\r\n\r\n', at); if (i < 0) break; n++; at = i + 4; }
      tail = text.slice(at);
      if (n === 1) socket.write(response);
      else if (n > 1) socket.write(Buffer.concat(Array(n).fill(response)));
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

const port = kind === 'moat' ? await moat(false) : kind === 'moat-audit' ? await moat(false, true) : kind === 'moat-mem' ? await moat(true) : kind === 'node' ? await node() : kind === 'raw' ? await raw() : NaN;
if (!Number.isFinite(port)) throw new Error(`unknown server kind ${kind}`);
process.stdout.write(`PORT ${port}\n`);
process.on('disconnect', () => process.exit(0));
