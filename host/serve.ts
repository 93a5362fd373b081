// Composes a running server from a resolved config: module words, routes with the demo handlers and
// the static document root, TLS, logs. The one place where config meets the parts it configures.
import { MoatServer } from './server.ts';
import { toModuleConfig } from './config.ts';
import { createRouter } from './routes.ts';
import { staticHandler } from './static.ts';
import { tlsOptions } from './tls.ts';
import { createLogger } from './log.ts';
import { demoHandlers } from './app.ts';
import type { Handler, MoatConfig } from './types.ts';
import type { ModuleConfig } from './module.ts';

export interface Running { server: MoatServer; close(graceMs?: number): Promise<void> }

export interface StartOptions {
  /** Application handlers beside the demo ones, by route handler name. */
  handlers?: Record<string, Handler>;
  /** Module config words that win over the config file's (tests use short deadlines). */
  moduleOverrides?: Partial<ModuleConfig>;
}

export async function startFromConfig(cfg: MoatConfig, opts: StartOptions = {}): Promise<Running> {
  const handlers: Record<string, Handler> = { ...demoHandlers(), ...opts.handlers };
  if (cfg.web.documents) handlers.file = staticHandler({ root: cfg.web.documents, index: cfg.web.index });
  const logger = createLogger(cfg.log);
  const server = await MoatServer.start({
    listen: cfg.web.listen,
    module: { ...toModuleConfig(cfg), ...opts.moduleOverrides },
    handler: createRouter(cfg.web.routes, handlers),
    headers: cfg.web.headers,
    tls: cfg.tls ? tlsOptions(cfg.tls) : undefined,
    tlsTimeoutMs: Number.isFinite(cfg.web.timeouts.tls) ? cfg.web.timeouts.tls : 0xffffffff,
    log: logger,
  });
  return {
    server,
    async close(graceMs = 5000) {
      await server.close(graceMs);
      await logger.close();
    },
  };
}
