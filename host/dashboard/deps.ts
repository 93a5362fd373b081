// What the dashboard needs from the rest of the host, declared structurally so it depends on no
// particular module: the running server, the self-audit and the operation log may each be absent
// (or not written yet), and a test can hand in a stand-in for any of them.
import type { MoatConfig } from '../types.ts';

export type Role = 'viewer' | 'operator' | 'admin';
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Profile = 'quick' | 'full';

export interface SecurityEventLike {
  time: number; kind: string; reason: string; code: number; slot: number; client: string;
  severity?: string; rule?: string; remedy?: string; user?: string;
}

export interface ClientLike {
  client: number; address: string; lastSeen: number; offenses: number; bannedMs: number; delayedMs: number;
  counts: { current: number; previous: number }[];
}

export interface MetricsLike {
  value(family: 'requests' | 'rejections' | 'refused' | 'defense' | 'logins', label: string): number;
}

/** The parts of MoatServer (host/server.ts) the dashboard reads or acts on. */
export interface MoatServerLike {
  clients(): ClientLike[];
  unban(address: string): boolean;
  watchSecurity(fn: (e: SecurityEventLike) => void): () => void;
  readonly metrics: MetricsLike;
  readonly connectionCount: number;
  bufferedBytes(): number;
  readonly moat: { highWater: number; x: { memory: { buffer: { byteLength: number } } }; config: { slots: number } };
}

export interface FindingLike {
  probe: string; class: string; cwe: number; severity: Severity; confidence: string; title: string;
  target: string; expected: string; observed: string; evidence: string; recommendation: string;
  fingerprint: string; status: string;
  waiver?: { actor: string; reason: string; expiresAt: string };
}

export interface ReportLike {
  findings: FindingLike[];
  profile?: string; actor?: string; startedAt?: string; finishedAt?: string; durationMs?: number;
  requests?: number; aborted?: string | null; grade?: string; version?: string;
  scope?: { probes: string[] | null; routes: string[] | null };
  summary?: Partial<Record<Severity, number>>;
}

/** host/audit's AuditService, as far as the dashboard uses it. */
export interface AuditLike {
  /** A whole run, or with `scope` a targeted check of some probes on some routes. */
  run(profile: Profile, actor: string, scope?: { probes?: string[]; routes?: string[] }): Promise<ReportLike>;
  last(): ReportLike | null;
  /** The last targeted check (it never replaces last()). */
  lastCheck?(): ReportLike | null;
  /** Probes a check may name, with the profiles that include them. */
  catalog?(): { id: string; class: string; title: string; profiles: Profile[] }[];
  waive(fingerprint: string, actor: string, reason: string, expiresAt: string): unknown;
  /** True while any run goes on, scheduled ones included. */
  readonly running?: boolean;
  /** Waivers by fingerprint, including those not yet applied to the last report. */
  waivers?(): Record<string, { actor: string; reason: string; expiresAt: string }>;
}

export interface OpEntryLike {
  actor: string; role: string | null; action: string; target?: string;
  outcome: 'ok' | 'denied' | 'failed'; detail?: Record<string, string | number | boolean>; client?: string;
}

/** host/oplog.ts's OpLog, as far as the dashboard uses it. */
export interface OpLogLike {
  append(entry: OpEntryLike): unknown;
  records(from?: number, limit?: number): readonly object[] | Promise<readonly object[]>;
}

export interface DashboardDeps {
  /** The running server; a function because handlers are made before the server starts. */
  server: () => MoatServerLike | null | undefined;
  /** The config the server runs (a function: a reload replaces it). */
  config: () => MoatConfig;
  /** Path of the users file (config auth.users), or null: the credentials page is not configured. */
  users: string | null;
  audit?: AuditLike | null;
  /** The audit's own SARIF writer (host/audit/format-sarif.ts); the dashboard has a plain one otherwise. */
  sarif?: ((report: ReportLike) => object) | null;
  oplog?: OpLogLike | null;
  /** Epoch ms the server started (uptime). */
  startedAt: number;
  /** Live event streams allowed at once (default 4): each holds a connection slot. */
  maxStreams?: number;
  /** Stream heartbeat period, ms (default 15 000); a departed client is noticed at the next write. */
  heartbeatMs?: number;
  /** Metric sample period, ms (default 10 000). */
  sampleMs?: number;
  /** Aborted when the server closes: the dashboard's timers stop. */
  signal?: AbortSignal;
}
