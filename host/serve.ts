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
import { staticHandler } from './static.ts';
import { tlsOptions } from './tls.ts';
import { createLogger } from './log.ts';
import { demoHandlers } from './app.ts';
import { AuditService } from './audit/service.ts';
import { formatSarif } from './audit/format-sarif.ts';
import type { Report } from './audit/types.ts';
import { OpLog } from './oplog.ts';
import { dashboardHandlers } from './dashboard/api.ts';
import type { Handler, MoatConfig } from './types.ts';
import type { ModuleConfig } from './module.ts';

export interface Running { server: MoatServer; audit: AuditService | null; close(graceMs?: number): Promise<void> }

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
  const login = cfg.auth.login;
  const access = new Access({
    users: cfg.auth.users ? UserStore.load(cfg.auth.users) : null,
    sessions,
    cookie: cfg.web.sessions.cookie,
    sameSite: cfg.web.sessions.sameSite === 'Lax' ? 'Lax' : 'Strict',
    throttle: new LoginThrottle({ failures: login.failures, windowMs: login.window, baseLockMs: login.lock }),
    event: (e) => (server ? server.securityEvent(e) : logger.security({ time: Date.now(), code: 0, slot: 0xff, ...e })),
    onLogin: (outcome) => metrics.login(outcome),
  });
  const handlers: Record<string, Handler> = {
    ...demoHandlers(),
    ...access.handlers(),
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
      server: () => server, config: cfg, users: cfg.auth.users, audit, oplog,
      sarif: (r) => formatSarif(r as unknown as Report), startedAt,
    }),
    ...opts.handlers,
  };
  if (cfg.web.documents) handlers.file = staticHandler({ root: cfg.web.documents, index: cfg.web.index });
  server = await MoatServer.start({
    listen: cfg.web.listen,
    module: { ...toModuleConfig(cfg), ...opts.moduleOverrides },
    handler: withHostCheck(new HostAllowList(cfg.web.hosts, cfg.web.listen), createRouter(cfg.web.routes, handlers, (req, role) => access.guard(req, role))),
    headers: cfg.web.headers,
    tls: cfg.tls ? tlsOptions(cfg.tls) : undefined,
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
  return {
    server: running,
    audit,
    async close(graceMs = 5000) {
      clearInterval(sweep);
      unschedule?.();
      audit?.stop();
      await running.close(graceMs);
      await logger.close();
    },
  };
}
