// What a changed config file means for a running server: which keys changed, which of them apply
// at once (routes, handlers, Host list, response fields, login throttle, TLS certificate and key,
// module limits, timeouts and defense thresholds — the module reads those words on every use), and
// which wait for a restart because they shape sockets, logs or the module's memory layout
// (listeners, TLS on/off, logs, the connection and client tables, the number of defense rules, the
// session store, the audit's own schedule, the users file's path — its contents are re-read on
// every request). The server then runs the "effective" config: the new one with the restart keys
// kept at their running values — so what it reports and audits is what it serves.
import type { MoatConfig } from './types.ts';
import { toModuleConfig } from './config.ts';
import { LAYOUT_WORDS } from './module.ts';

/** Key paths whose change needs a restart because the host reads them only at start. The keys that
 * lay out the module's memory (connection slots, input window, client table, number of defense
 * rules) are found by layoutKeys() from the module words themselves, not listed here. */
export const RESTART_KEYS = [
  'web.listen', 'web.sessions', 'web.limits.sessions', 'web.timeouts.tls', 'log', 'moat.audit',
  'auth.users',     // the path (the dashboard's credentials page edits it); its contents are re-read per request anyway
] as const;

export interface ReloadPlan {
  /** Every leaf key path that differs (arrays compare whole). */
  changed: string[];
  /** Changed keys the running server takes now. */
  live: string[];
  /** Changed keys that wait for a restart (their running values are kept). */
  restart: string[];
  /** The config to run: `next` with the restart keys at their running values. */
  effective: MoatConfig;
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Leaf key paths where `a` and `b` differ. */
export function changedKeys(a: unknown, b: unknown, path = ''): string[] {
  if (isTree(a) && isTree(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => changedKeys(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return same(a, b) ? [] : [path];
}

function same(a: unknown, b: unknown): boolean {
  // JSON has no Infinity ("infinite" durations): compare through a replacer that keeps it apart from null.
  const text = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? `#${x}` : x));
  return text(a) === text(b);
}

const under = (path: string, key: string) => path === key || path.startsWith(`${key}.`);

function getAt(o: Tree, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (isTree(v) ? v[k] : undefined), o);
}

function setAt(o: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop()!;
  let t = o;
  for (const k of parts) t = (isTree(t[k]) ? t[k] : (t[k] = {})) as Tree;
  t[last] = structuredClone(value);
}

/** The module words that lay out its memory (init()), as one comparable string. */
function layout(cfg: MoatConfig): string {
  const words = toModuleConfig(cfg);
  return LAYOUT_WORDS.map((w) => words[w]).join(' ');
}

/**
 * The changed keys that would re-lay the module's memory, which only a restart (a new init()) can
 * do: none when the new config's layout words equal the running ones; else each changed key whose
 * new value alone, put into the running config, changes them (or makes a config the module cannot
 * take, e.g. one rule too many: held too).
 */
function layoutKeys(running: MoatConfig, next: MoatConfig, changed: string[]): string[] {
  const now = layout(running);
  if (layout(next) === now) return [];
  return changed.filter((p) => {
    const one = structuredClone(running) as unknown as Tree;
    setAt(one, p, getAt(next as unknown as Tree, p));
    try {
      return layout(one as unknown as MoatConfig) !== now;
    } catch {
      return true;
    }
  });
}

export function planReload(running: MoatConfig, next: MoatConfig): ReloadPlan {
  const changed = changedKeys(running, next);
  const hold: string[] = [...RESTART_KEYS, ...layoutKeys(running, next, changed)];
  // A new certificate, key or HSTS setting applies live; TLS appearing or going goes with the listeners.
  if ((running.tls === null) !== (next.tls === null)) hold.push('tls');
  const restart = changed.filter((p) => hold.some((k) => under(p, k)));
  const live = changed.filter((p) => !restart.includes(p));
  const effective = structuredClone(next) as unknown as Tree;
  for (const k of hold) if (restart.some((p) => under(p, k))) setAt(effective, k, getAt(running as unknown as Tree, k));
  return { changed, live, restart, effective: effective as unknown as MoatConfig };
}
