// The self-audit's contracts: probes, findings, the context a probe runs in, and the report.
import type { MoatConfig, RouteSpec } from '../types.ts';
import type { ModuleConfig } from '../module.ts';
import type { HttpResult, Exchange, RawOptions, RequestSpec } from './http.ts';

export type Profile = 'quick' | 'full';
export type AuditSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Confidence = 'high' | 'medium' | 'low';
export type FindingStatus = 'new' | 'open' | 'fixed' | 'regressed' | 'waived';

export const SEVERITIES: readonly AuditSeverity[] = ['critical', 'high', 'medium', 'low', 'info'];
/** Higher is worse. */
export const severityRank = (s: AuditSeverity): number => 4 - SEVERITIES.indexOf(s);

export interface Finding {
  probe: string;
  class: string;
  cwe: number;
  severity: AuditSeverity;
  confidence: Confidence;
  title: string;
  /** "GET /path" for a route, or a config key path such as "web.timeouts.parse". */
  target: string;
  expected: string;
  observed: string;
  /** At most ~512 bytes, secrets masked. */
  evidence: string;
  recommendation: string;
  /** sha256 of probe id + target + observation kind: stable across runs (no nonces). */
  fingerprint: string;
}

export interface ReportedFinding extends Finding {
  status: FindingStatus;
  firstSeen: string;
  waiver?: { actor: string; reason: string; expiresAt: string };
}

/** What a probe hands to ctx.finding(): everything but the derived fields. */
export interface FindingDraft {
  severity?: AuditSeverity;
  confidence: Confidence;
  title: string;
  target: string;
  /** Normalized observation kind, part of the fingerprint (e.g. "reflected-query"). */
  kind: string;
  expected: string;
  observed: string;
  evidence: string;
  recommendation: string;
  cwe?: number;
}

export interface Endpoint { scheme: 'http' | 'https'; host: string; port: number }

/** A route as probes see it: a concrete path that reaches it, and what it allows. */
export interface RouteTarget {
  route: RouteSpec;
  /** A concrete path the route's prefix matches. */
  path: string;
  /** Built-in Moat handler (status, echo, login, …) rather than the application's. */
  builtin: boolean;
  get: boolean;
  unsafe: string[];
}

export interface ShadowAccounts {
  /** Throwaway admin that exists only in the shadow's copy of the users file. */
  admin: { name: string; password: string } | null;
  /** Throwaway viewer (the least role), to check that routes needing more refuse it. */
  viewer: { name: string; password: string } | null;
  /** Bearer token of a throwaway device revoked in the copy. */
  revokedToken: string | null;
  /** The copy of the users file the shadow reads (null when no accounts could be made). */
  usersFile: string | null;
  /** Whether the live config had a users file of its own. */
  liveUsers: string | null;
}

export interface ProbeContext {
  profile: Profile;
  /** The live config as given (config keys in findings refer to it). */
  config: MoatConfig;
  /** The shadow's listeners. */
  endpoints: Endpoint[];
  http: Endpoint;
  https: Endpoint | null;
  routes: RouteTarget[];
  accounts: ShadowAccounts;
  /** Session cookie ("name=value") of the throwaway admin on the http endpoint, or null. */
  adminCookie: string | null;
  adminCsrf: string | null;
  nonce(bytes?: number): string;
  /** One request on its own connection (counted, rate-limited); audit token added unless audit: false. */
  request(spec: RequestSpec): Promise<HttpResult>;
  /** Raw bytes on one connection, counted as `count` requests. */
  raw(data: Buffer | string, opts?: RawOptions & { count?: number }): Promise<Exchange>;
  /** Counts `n` requests against the budget without sending (probes that open sockets themselves). */
  spend(n: number): Promise<void>;
  finding(probe: Probe, draft: FindingDraft): Finding;
  /** Notes for the report (why something was skipped). */
  note(text: string): void;
  token: string;
  /** The shadow module's config words, read from its linear memory (the same module bytes as live). */
  moduleWords(): ModuleConfig;
}

export interface Probe {
  id: string;
  class: string;
  cwe: number;
  severity: AuditSeverity;
  profiles: Profile[];
  title: string;
  /** What the probe will look at, derived from the routes and the config (no crawling). */
  targets(ctx: ProbeContext): string[];
  run(ctx: ProbeContext): Promise<Finding[]>;
  /** Runs beside the other probes (it mostly waits), from its own loopback address. */
  background?: boolean;
  /** Help text for the SARIF rule. */
  help?: string;
}

export interface ProbeRun { id: string; targets: number; requests: number; ms: number; findings: number; skipped?: string }

export interface Report {
  tool: 'moat-audit';
  version: string;
  profile: Profile;
  actor: string;
  /** A targeted run: only these probes and/or routes (by route `match`); absent for a whole run. */
  scope?: { probes: string[] | null; routes: string[] | null };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  requests: number;
  limits: { maxRequests: number; perSecond: number; maxConnections: number };
  aborted: string | null;
  shadow: { endpoints: Endpoint[]; defense: string; logs: string; users: string };
  probes: ProbeRun[];
  findings: ReportedFinding[];
  /** Fingerprints seen before and gone in this run. */
  fixed: { fingerprint: string; probe: string; title: string; target: string; severity: AuditSeverity }[];
  notes: string[];
  /** Counts by severity of findings that are not waived. */
  summary: Record<AuditSeverity, number>;
  /** A (nothing above info), B (low), C (medium), D (high), F (critical): the worst finding not waived. */
  grade: 'A' | 'B' | 'C' | 'D' | 'F';
}

export function gradeOf(summary: Record<AuditSeverity, number>): Report['grade'] {
  return summary.critical ? 'F' : summary.high ? 'D' : summary.medium ? 'C' : summary.low ? 'B' : 'A';
}
