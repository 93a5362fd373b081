// Contracts between the host's parts: the resolved config (host/config.ts produces it), the
// application interface (routes, static files and handlers use it) and the log sinks.
import type { Readable } from 'node:stream';

/** Milliseconds; `Infinity` = never. */
export type Millis = number;

export interface ListenSpec { scheme: 'http' | 'https'; host: string; port: number }

export interface RouteSpec {
  /** Path prefix ("" or "/" matches everything); the longest matching prefix wins. */
  match: string;
  /** Allowed methods (upper case); null = any. HEAD is allowed wherever GET is. */
  methods: string[] | null;
  /** Name of a handler registered by the application ("file" = the static document root). */
  handler: string;
  /** Least role a caller needs (host/auth/roles.ts); null = public. */
  role: 'viewer' | 'operator' | 'admin' | null;
  /** The handler may run for self-audit requests (it honours req.audit as a dry run); default false. */
  dryRun?: boolean;
}

export interface MoatConfig {
  web: {
    listen: ListenSpec[];
    /** Host allow-list (host/hosts.ts): names, "*.suffix", "auto", "*". */
    hosts: string[];
    /** Absolute path of the document root, or null for none. */
    documents: string | null;
    index: string;
    limits: {
      body: number; form: number; upload: number; header: number; headers: number; uri: number;
      chunkExt: number; connections: number; clientConnections: number; clientRequests: number; sessions: number;
    };
    timeouts: { parse: Millis; inactivity: Millis; request: Millis; session: Millis; tls: Millis };
    /** Extra response fields sent on every response (validated by the module like app fields). */
    headers: [string, string][];
    routes: RouteSpec[];
    sessions: { cookie: string; enable: boolean; sameSite: 'Strict' | 'Lax' | 'None'; timeout: Millis };
  };
  tls: { certificate: string; key: string; hsts: { maxAge: number; subdomains: boolean } | null } | null;
  log: {
    /** "stdout", "stderr", an absolute file path, or null (off). */
    access: { path: string | null; format: 'common' | 'json' };
    error: { path: string | null; level: 'error' | 'warn' | 'info' | 'debug' };
    security: { path: string | null };
    /** The operators' hash-chained operation log (host/oplog.ts); null = none. */
    operations?: { path: string | null };
  };
  auth: {
    /** Absolute path of the users file (`moat user`), or null: no accounts, every role-bound route answers 401. */
    users: string | null;
    /** Per-account login throttle (the module's rules throttle per client address). */
    login: { failures: number; window: Millis; lock: Millis };
  };
  moat: {
    stealth: boolean;
    /** Bytes of the module's input window: the most one feed() sees, and the largest table in its memory. */
    window: number;
    defense: DefenseConfig;
    /** The self-audit (host/audit): scheduled runs and where finding statuses and waivers are kept. */
    audit: { schedule: boolean; state: string | null };
  };
}

export type DefenseCounterName = 'requests' | 'badRequests' | 'limitHits' | 'notFound' | 'authFailures' | 'errors' | 'connections';
export type DefenseRemedyName = 'log' | 'alert' | 'delay' | 'ban' | 'reject';
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export interface DefenseRule {
  counter: DefenseCounterName;
  /** The rule trips when the counter's sliding-window count exceeds this. */
  over: number;
  per: Millis;
  remedy: DefenseRemedyName;
  /** How long a ban or delay lasts (0 for the others). */
  for: Millis;
  severity: Severity;
}

export interface DefenseConfig {
  /** Client records in the module's table. */
  clients: number;
  /** How long the host waits before answering a delayed client. */
  delay: Millis;
  rules: DefenseRule[];
}

/** An authenticated caller (host/auth/access.ts): a user with a session, or a device's Bearer token. */
export interface Caller { name: string; kind: 'user' | 'device'; role: 'viewer' | 'operator' | 'admin'; via: 'session' | 'bearer' }

/** What a handler sees. Body bytes stream in as the module reports them. */
export interface AppRequest {
  /** Set by the access guard before the handler runs; null = anonymous. */
  caller: Caller | null;
  /** A self-audit request (loopback, this run's token): state-changing routes stop at the dispatch barrier. */
  audit: boolean;
  method: string;
  /** Raw request-target as sent. */
  target: string;
  /** Path of the target (origin or absolute form), still percent-encoded. */
  path: string;
  query: string;
  version: '1.0' | '1.1';
  headers: [string, string][];
  /** First value of a field, case-insensitive. */
  header(name: string): string | undefined;
  trailers: [string, string][];
  client: { address: string; tls: boolean };
  /** Body chunks (already limited by the module). */
  body(): AsyncIterable<Buffer>;
  /** Whole body; rejects past `max` bytes. */
  bytes(max?: number): Promise<Buffer>;
  json(): Promise<unknown>;
}

export interface AppReply {
  status: number;
  fields?: [string, string][];
  /** A stream needs `length` for Content-Length, otherwise it is sent chunked (HTTP/1.1). */
  body?: Buffer | string | { stream: Readable; length?: number };
}

export type Handler = (req: AppRequest) => AppReply | Promise<AppReply>;
