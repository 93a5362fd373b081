// The demo application's handlers, registered by name for config routes (`handler: "status"`).
// "file" (the static document root) is added by the server from web.documents.
import type { Handler } from './types.ts';
import { json } from './routes.ts';

export function demoHandlers(startedAt = Date.now()): Record<string, Handler> {
  return {
    status: () => json(200, {
      device: 'moat-demo',
      uptime_s: Math.floor((Date.now() - startedAt) / 1000),
      memory_rss: process.memoryUsage().rss,
      ok: true,
    }),
    echo: async (req) => {
      const body = await req.bytes();
      return json(200, { bytes: body.length, trailers: req.trailers.length });
    },
  };
}
