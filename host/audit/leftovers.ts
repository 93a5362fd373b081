// What a run leaves behind when the process dies mid-run (a sentinel beside the document root, the
// shadow's temp folder with its copy of the users file): the next run removes it. Only names the
// audit itself makes, old enough that no run in progress can still own them, and — for sentinel
// files — only when the content is a sentinel's, so a user's file of a similar name is never touched.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Longer than any run: a full run is bounded by its request budget and rate (1,500 at 200/s) plus the timeout waits. */
export const LEFTOVER_AGE_MS = 3_600_000;

export const SENTINEL_FILE = /^moat-audit-sentinel-[0-9a-f]{12}\.txt$/;
export const SENTINEL_CONTENT = /^moat-sentinel-[0-9a-f]{32}$/;

/** Removes entries of `dir` whose name matches `name` and that were last changed over `maxAgeMs` ago; returns their names. */
export function sweepLeftovers(dir: string, name: RegExp, opts: { maxAgeMs?: number; now?: number; content?: RegExp } = {}): string[] {
  const now = opts.now ?? Date.now(), maxAge = opts.maxAgeMs ?? LEFTOVER_AGE_MS;
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return []; }
  const gone: string[] = [];
  for (const e of entries) {
    if (!name.test(e)) continue;
    const p = join(dir, e);
    try {
      const st = statSync(p);
      if (now - st.mtimeMs < maxAge) continue;
      if (opts.content && (!st.isFile() || st.size > 64 || !opts.content.test(readFileSync(p, 'utf8')))) continue;
      rmSync(p, { recursive: true, force: true });
      gone.push(e);
    } catch { /* gone already, or not ours to read: leave it */ }
  }
  return gone;
}
