// The dashboard's page, script, stylesheet and icon, held in memory and served with the strict
// policy. They are built on first use when build/dashboard/ is missing or older than the sources
// (host/dashboard/build.mjs), so `npm start` on a fresh clone serves a current dashboard.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppReply, Handler } from '../types.ts';
import { FILES, OUT_DIR, buildDashboard, isStale } from './build.mjs';
import { STRICT, problem } from './reply.ts';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml',
};

type Assets = Map<string, { type: string; body: Buffer }>;

let loading: Promise<Assets> | null = null;

/** The built files, building them once per process if needed. */
export function loadAssets(): Promise<Assets> {
  loading ??= (async () => {
    const out: Assets = new Map();
    // A one-file bundle carries the built files (name → base64) instead of a build/ folder.
    const embedded = (globalThis as { __MOAT_DASHBOARD__?: Record<string, string> }).__MOAT_DASHBOARD__;
    if (embedded) {
      for (const f of FILES) if (embedded[f] !== undefined) out.set(f, { type: TYPES[f.slice(f.lastIndexOf('.') + 1)], body: Buffer.from(embedded[f], 'base64') });
      return out;
    }
    if (isStale()) await buildDashboard();
    for (const f of FILES) out.set(f, { type: TYPES[f.slice(f.lastIndexOf('.') + 1)], body: readFileSync(join(OUT_DIR, f)) });
    return out;
  })();
  // A failed build is tried again on the next request rather than remembered.
  loading.catch(() => { loading = null; });
  return loading;
}

export function uiHandler(base: string): Handler {
  void loadAssets().catch(() => {});
  return async (req): Promise<AppReply> => {
    const at = req.path.indexOf(base);
    const name = at < 0 ? '' : req.path.slice(at + base.length) || 'index.html';
    let assets: Assets;
    try {
      assets = await loadAssets();
    } catch (e) {
      return problem(503, `dashboard assets unavailable: ${(e as Error).message}`);
    }
    const a = assets.get(name);
    if (!a) return problem(404, 'not_found');
    return { status: 200, fields: [['Content-Type', a.type], ...STRICT], body: a.body };
  };
}
