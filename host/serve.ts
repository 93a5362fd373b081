// Composes a running server from a resolved config: module words, routes with the demo handlers and
// the static document root, TLS, logs. The one place where config meets the parts it configures.
import { MoatServer } from './server.ts';
import { toModuleConfig, moduleRules } from './config.ts';
import { Metrics } from './metrics.ts';
import { Access } from './auth/access.ts';
import { UserStore } from './auth/users.ts';
import { SessionStore } from './auth/sessions.ts';
import { LoginThrottle } from './auth/throttle.ts';
import { createRouter } from './routes.ts';
import { HostAllowList, withHostCheck } from './hosts.ts';
import { planReload, type ReloadPlan } from './reload.ts';
import { staticHandler } from './static.ts';
import { tlsOptions } from './tls.ts';
import { createLogger } from './log.ts';
import { demoHandlers } from './app.ts';
import { AuditService } from './audit/service.ts';
import { formatSarif } from './audit/format-sarif.ts';
import type { Report } from './audit/types.ts';
import { OpLog, type OpEntry } from './oplog.ts';
import { dashboardHandlers } from './dashboard/api.ts';
import type { Handler, MoatConfig } from './types.ts';
import { LAYOUT_WORDS, type ModuleConfig } from './module.ts';

export interface Running {
  server: MoatServer;
  audit: AuditService | null;
  /** The config being served (after a reload: the new one, with restart keys at their running values). */
  readonly config: MoatConfig;
  /**
   * Takes a changed config while serving: live keys apply to the next request, restart keys keep
   * their running values (host/reload.ts), and a quick self-audit of the result follows. A config
   * that fails to load or to build (the error names the key) changes nothing. Both outcomes go to
   * the error log and the operation log.
   */
  reload(load: () => MoatConfig, actor?: string): { ok: true; plan: ReloadPlan } | { ok: false; error: string };
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Application handlers beside the demo ones, by route handler name. */
  handlers?: Record<string, Handler>;
  /** Module config words that win over the config file's (tests use short deadlines). */
  moduleOverrides?: Partial<ModuleConfig>;
  /** Self-audit token (host/audit's shadow instance): loopback requests carrying it are audit requests.
   *  A shadow runs no audit of its own and writes no operation log. */
  auditToken?: string;
}

const DAY_MS = 86_400_000;

export async function startFromConfig(cfg: MoatConfig, opts: StartOptions = {}): Promise<Running> {
  const startedAt = Date.now();
  const logger = createLogger(cfg.log);
  const metrics = new Metrics();
  const shadow = opts.auditToken !== undefined;
  const oplog = !shadow && cfg.log.operations?.path ? OpLog.open(cfg.log.operations.path) : null;
  let server: MoatServer | undefined;
  const audit = shadow ? null : new AuditService({
    config: cfg, handlers: opts.handlers, moduleOverrides: opts.moduleOverrides, statePath: cfg.moat.audit.state,
    onAlarm: (f) => {
      metrics.auditAlarm(f.severity);
      const e = { kind: 'audit', reason: f.probe, client: 'moat-audit', severity: f.severity, rule: `${f.title} (${f.target})` };
      if (server) server.securityEvent(e); else logger.security({ time: Date.now(), code: 0, slot: 0xff, ...e });
    },
  });
  const sessions = cfg.web.sessions.enable
    ? new SessionStore({ max: cfg.web.limits.sessions, idleMs: cfg.web.sessions.timeout === Infinity ? 2 ** 31 - 1 : cfg.web.sessions.timeout })
    : null;
  const throttleFor = (c: MoatConfig) => new LoginThrottle({ failures: c.auth.login.failures, windowMs: c.auth.login.window, baseLockMs: c.auth.login.lock });
  let throttle = throttleFor(cfg);
  let current = cfg;
  const closed = new AbortController();
  // Built once: they hold live state (event streams, metric samples, the audit desk) and read the
  // current config through `config()`.
  const fixed: Record<string, Handler> = {
    ...demoHandlers(),
    metrics: () => ({
      status: 200,
      fields: [['Content-Type', 'text/plain; version=0.0.4; charset=utf-8'], ['Cache-Control', 'no-store']],
      body: metrics.render({
        connections: server?.connectionCount ?? 0, sessions: sessions?.size ?? 0,
        moduleMemoryBytes: server?.moat.x.memory.buffer.byteLength ?? 0, moduleHighWaterBytes: server?.moat.highWater ?? 0,
        bufferedBytes: server?.bufferedBytes() ?? 0,
      }),
    }),
    ...dashboardHandlers({
      server: () => server, config: () => current, users: cfg.auth.users, audit, oplog,
      sarif: (r) => formatSarif(r as unknown as Report), startedAt, signal: closed.signal,
    }),
  };
  // The request path a config makes: Host check → router → access guard → handler. Sessions and
  // the login throttle outlive it, so a reload logs nobody out and unlocks nobody.
  const appFor = (c: MoatConfig, t: LoginThrottle): Handler => {
    const access = new Access({
      users: c.auth.users ? UserStore.load(c.auth.users) : null,
      sessions,
      cookie: c.web.sessions.cookie,
      sameSite: c.web.sessions.sameSite === 'Lax' ? 'Lax' : 'Strict',
      throttle: t,
      event: (e) => (server ? server.securityEvent(e) : logger.security({ time: Date.now(), code: 0, slot: 0xff, ...e })),
      onLogin: (outcome) => metrics.login(outcome),
    });
    const handlers: Record<string, Handler> = { ...fixed, ...access.handlers(), ...opts.handlers };
    if (c.web.documents) handlers.file = staticHandler({ root: c.web.documents, index: c.web.index });
    return withHostCheck(new HostAllowList(c.web.hosts, c.web.listen), createRouter(c.web.routes, handlers, (req, role) => access.guard(req, role)));
  };
  let app = appFor(cfg, throttle);
  let tlsNow = cfg.tls ? tlsOptions(cfg.tls) : undefined;
  server = await MoatServer.start({
    listen: cfg.web.listen,
    module: { ...toModuleConfig(cfg), ...opts.moduleOverrides },
    handler: (req) => app(req),
    headers: cfg.web.headers,
    tls: tlsNow,
    tlsTimeoutMs: Number.isFinite(cfg.web.timeouts.tls) ? cfg.web.timeouts.tls : 0xffffffff,
    log: logger,
    rules: moduleRules(cfg),
    metrics,
    auditToken: opts.auditToken,
  });
  // Expired sessions leave the table even when nobody presents them again.
  const sweep = setInterval(() => sessions?.sweep(Date.now()), 60_000);
  sweep.unref();
  const unschedule = audit && cfg.moat.audit.schedule ? audit.schedule({ quickDailyMs: DAY_MS, fullWeeklyMs: 7 * DAY_MS }) : null;
  const running = server;
  // An operation log that cannot be written is an error to log, never a reason to stop serving.
  const record = (e: OpEntry) => {
    try { oplog?.append(e); } catch (x) { logger.error('error', 'operation log append failed', { reason: (x as Error).message }); }
  };
  const reload: Running['reload'] = (load, actor = 'config-file') => {
    let plan: ReloadPlan, nextApp: Handler, nextThrottle = throttle, words: Partial<ModuleConfig>, nextTls = tlsNow;
    try {
      // Everything that can throw (a bad value, a route naming an unknown handler, a users file
      // that fails to load) throws before anything is swapped: the old config keeps serving.
      plan = planReload(current, load());
      // The certificate files are read again: a renewal keeps their paths, so the config alone
      // would not show it. A file that does not load (or a key that does not match) refuses the reload.
      if (tlsNow && plan.effective.tls) {
        const read = tlsOptions(plan.effective.tls);
        if (String(read.cert) !== String(tlsNow.cert) || String(read.key) !== String(tlsNow.key)) {
          nextTls = read;
          for (const list of [plan.changed, plan.live]) if (!list.some((k) => k.startsWith('tls.certificate') || k.startsWith('tls.key'))) list.push('tls.certificate (file contents)');
        }
      }
      if (plan.changed.length === 0) return { ok: true, plan };
      if (plan.live.some((k) => k.startsWith('auth.login'))) nextThrottle = throttleFor(plan.effective);
      nextApp = appFor(plan.effective, nextThrottle);
      words = { ...toModuleConfig(plan.effective), ...opts.moduleOverrides };
      for (const k of LAYOUT_WORDS) delete words[k];
    } catch (e) {
      const error = (e as Error).message;
      logger.error('error', 'config reload refused; the previous config keeps serving', { reason: error });
      record({ actor, role: null, action: 'config.reload', outcome: 'failed', detail: { reason: error.slice(0, 300) } });
      return { ok: false, error };
    }
    const c = plan.effective;
    running.reconfigure({ headers: c.web.headers, rules: moduleRules(c), words, tls: nextTls !== tlsNow ? nextTls : undefined });
    tlsNow = nextTls;
    app = nextApp;
    throttle = nextThrottle;
    current = c;
    logger.error('info', 'config reloaded', { live: plan.live.join(' ') || 'none', restart: plan.restart.join(' ') || 'none' });
    if (plan.restart.length) logger.error('warn', 'config keys that apply only after a restart', { keys: plan.restart.join(' ') });
    record({ actor, role: null, action: 'config.reload', outcome: 'ok', detail: { live: plan.live.join(' '), restart: plan.restart.join(' ') } });
    audit?.configChanged(c).catch(() => { /* a failed run is retried by the schedule */ });
    return { ok: true, plan };
  };
  return {
    server: running,
    audit,
    get config() { return current; },
    reload,
    async close(graceMs = 5000) {
      closed.abort();
      clearInterval(sweep);
      unschedule?.();
      audit?.stop();
      await running.close(graceMs);
      await logger.close();
    },
  };
}
