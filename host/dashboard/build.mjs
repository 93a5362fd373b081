#!/usr/bin/env node
// Builds the dashboard's browser files into build/dashboard/: ui/app.ts bundled and minified by
// esbuild into one app.js, beside index.html, style.css and icon.svg copied as they are. The host
// calls buildDashboard() on first use when the output is missing or older than a source, so a fresh
// clone needs no extra command; `node host/dashboard/build.mjs` does it by hand.
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));
export const OUT_DIR = fileURLToPath(new URL('../../build/dashboard/', import.meta.url));
export const FILES = ['index.html', 'app.js', 'style.css', 'icon.svg'];
const COPIED = ['index.html', 'style.css', 'icon.svg'];

function newestSource(dir = UI_DIR) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Whether some output is missing or older than the newest source. */
export function isStale(outDir = OUT_DIR) {
  const newest = newestSource();
  return FILES.some((f) => {
    const st = statSync(join(outDir, f), { throwIfNoEntry: false });
    return !st || st.mtimeMs < newest;
  });
}

// Each file replaces the old one in one rename, so a reader (or a second builder racing this one)
// never sees half a file.
function put(outDir, name, bytes) {
  const tmp = join(outDir, `.${name}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, join(outDir, name));
}

/** Bundles and copies; resolves to the bundle's size in bytes. */
export async function buildDashboard(outDir = OUT_DIR) {
  // A computed name: a bundler packing the host (host/bundle.mjs) must not try to pack esbuild too.
  const tool = 'esbuild';
  const { build } = await import(tool);
  mkdirSync(outDir, { recursive: true });
  const r = await build({
    entryPoints: [join(UI_DIR, 'app.ts')],
    bundle: true, minify: true, format: 'iife', target: ['es2020'], platform: 'browser',
    write: false, legalComments: 'none', logLevel: 'silent',
  });
  const js = r.outputFiles[0].contents;
  for (const f of COPIED) put(outDir, f, readFileSync(join(UI_DIR, f)));
  put(outDir, 'app.js', js);
  return js.length;
}

// (Not when bundled into dist/moat.mjs, where import.meta.url is the bundle's own.)
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && import.meta.url.endsWith('/dashboard/build.mjs')) {
  const { gzipSync } = await import('node:zlib');
  const n = await buildDashboard();
  const gz = gzipSync(readFileSync(join(OUT_DIR, 'app.js')), { level: 9 }).length;
  console.log(`build/dashboard/app.js: ${n} bytes, ${gz} gzipped`);
}
