// The shadow instance every probe runs against: the live config and the same module bytes, but on
// 127.0.0.1 port 0, with its logs off, a fresh random audit token, its own session and client
// tables, and a copy of the users file in a temp folder (holding a throwaway admin, a throwaway
// viewer and a revoked throwaway device that exist nowhere else). Live bans, sessions, client tables and files are
// never touched.
//
// Its defense rules are switched off (moduleOverrides rule_count 0): the audit sends bad requests
// on purpose and must not ban itself mid-run. The limits (connections, per-client connections,
// sizes, timeouts) stay as configured, since those are what the probes measure.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, scrypt } from 'node:crypto';
import { startFromConfig, type Running } from '../serve.ts';
import { UserStore } from '../auth/users.ts';
import { sweepLeftovers } from './leftovers.ts';
import type { Handler, MoatConfig } from '../types.ts';
import { ConfigWord, type ConfigKey, type ModuleConfig } from '../module.ts';
import type { Endpoint, ShadowAccounts } from './types.ts';

export interface ShadowOptions {
  handlers?: Record<string, Handler>;
  moduleOverrides?: Partial<ModuleConfig>;
}

export interface Shadow {
  running: Running;
  endpoints: Endpoint[];
  token: string;
  accounts: ShadowAccounts;
  config: MoatConfig;
  /** The config words as they sit in the shadow module's linear memory after init(). */
  words(): ModuleConfig;
  close(): Promise<void>;
}

/** Reads the config blob back from a module's memory: what the module enforces, not what the host meant to write. */
export function moduleWords(running: Running): ModuleConfig {
  const x = running.server.moat.x;
  const view = new DataView(x.memory.buffer), base = x.configPtr();
  const out = {} as ModuleConfig;
  for (const [k, i] of Object.entries(ConfigWord)) if (k !== 'magic') out[k as ConfigKey] = view.getUint32(base + 4 * i, true);
  return out;
}

export const SHADOW_DEFENSE = 'defense rules off in the shadow (moduleOverrides rule_count 0) so the audit client is never banned mid-run; limits and timeouts as configured';
export const SHADOW_LOGS = 'shadow logs off; the live logs see nothing of the run';

/** A copy of the config the shadow runs: loopback port 0 listeners, logs off, the copied users file. */
export function shadowConfig(cfg: MoatConfig, usersFile: string | null): MoatConfig {
  const copy = structuredClone(cfg);
  copy.web.listen = cfg.web.listen.map((l) => ({ scheme: l.scheme, host: '127.0.0.1', port: 0 }));
  // Probes name the shadow by its loopback address; any other host is refused as configured.
  copy.web.hosts = [...cfg.web.hosts, '127.0.0.1'];
  copy.log = { access: { path: null, format: 'common' }, error: { path: null, level: 'error' }, security: { path: null } };
  copy.auth.users = usersFile;
  // The built-in login changes nothing but the shadow's own session table: it takes audit requests
  // (a dry run in the barrier's terms), so the throwaway logins carry the run's token like the rest.
  copy.web.routes = cfg.web.routes.map((r) => (r.handler === 'login' ? { ...r, dryRun: true } : r));
  return copy;
}

async function prepareUsers(dir: string, live: string | null): Promise<ShadowAccounts> {
  const file = join(dir, 'users.json');
  if (live && existsSync(live)) copyFileSync(live, file);
  else writeFileSync(file, JSON.stringify({ version: 1, users: {} }) + '\n', { mode: 0o600 });
  const tag = randomBytes(4).toString('hex');
  const store = UserStore.load(file);
  const admin = { name: `moat-audit-admin-${tag}`, password: randomBytes(18).toString('base64url') };
  const viewer = { name: `moat-audit-viewer-${tag}`, password: randomBytes(18).toString('base64url') };
  const device = `moat-audit-revoked-${tag}`;
  const revokedToken = store.addDevice(device, 'admin');
  store.revoke(device);
  store.save();
  // The throwaway users get cheap scrypt hashes written straight into the copy. Hash cost slows
  // guessing, and these 144-bit random passwords live for one run in a temp folder; at full cost
  // their two hashes and two logins were about 140 ms of a quick run's 200 ms of CPU, taken from
  // the live server that shares the process.
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { users: Record<string, unknown> };
  const t = new Date().toISOString();
  for (const [who, role] of [[admin, 'admin'], [viewer, 'viewer']] as const) {
    doc.users[who.name] = { kind: 'user', role, hash: await cheapHash(who.password), generation: 1, revoked: false, created: t, changed: t };
  }
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  const known = new Set(UserStore.load(file).list().map((a) => a.name));
  if (!known.has(admin.name) || !known.has(viewer.name)) throw new Error('the shadow users file does not hold the throwaway accounts');
  return { admin, viewer, revokedToken, usersFile: file, liveUsers: live };
}

/** scrypt at N = 2^10 (a 16th of the users file's usual cost), in the users file's encoding. */
const CHEAP = { N: 1 << 10, r: 8, p: 1 } as const;
function cheapHash(password: string): Promise<string> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, 32, CHEAP, (err, key) => (err ? reject(err) : resolve(
    `scrypt$${CHEAP.N}$${CHEAP.r}$${CHEAP.p}$${salt.toString('base64')}$${key.toString('base64')}`))));
}

export async function startShadow(cfg: MoatConfig, opts: ShadowOptions = {}): Promise<Shadow> {
  sweepLeftovers(tmpdir(), /^moat-audit-[A-Za-z0-9]{6}$/);       // shadows of runs whose process died
  const dir = mkdtempSync(join(tmpdir(), 'moat-audit-'));
  try {
    const accounts = await prepareUsers(dir, cfg.auth.users);
    const config = shadowConfig(cfg, accounts.usersFile);
    const token = randomBytes(24).toString('base64url');
    const running = await startFromConfig(config, {
      handlers: opts.handlers,
      moduleOverrides: { ...opts.moduleOverrides, rule_count: 0 },
      auditToken: token,
    });
    const endpoints = running.server.addresses.map((a) => ({ scheme: a.scheme, host: '127.0.0.1', port: a.port }));
    return {
      running, endpoints, token, accounts, config,
      words: () => moduleWords(running),
      async close() {
        try { await running.close(500); } finally { rmSync(dir, { recursive: true, force: true }); }
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
