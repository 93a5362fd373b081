// Replies every dashboard response shares: a strict Content-Security-Policy set by the handler
// itself (the module keeps application-set security fields, so this replaces its broader default),
// no caching of operator data, and JSON bodies read with a small bound.
import type { AppReply, AppRequest } from '../types.ts';

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Fields on every dashboard response, API and assets alike. */
export const STRICT: [string, string][] = [
  ['Content-Security-Policy', CSP],
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  // Another origin's page cannot even embed these bytes as an image or script.
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Cache-Control', 'no-store'],
];

export function reply(status: number, value: unknown, fields: [string, string][] = []): AppReply {
  return { status, fields: [['Content-Type', 'application/json; charset=utf-8'], ...STRICT, ...fields], body: JSON.stringify(value) };
}

export function problem(status: number, reason: string, fields: [string, string][] = []): AppReply {
  return reply(status, { error: status, reason }, fields);
}

const BODY_MAX = 4096;

export class BadBody extends Error {
  constructor(readonly status: 400 | 413 | 415, reason: string) { super(reason); }
}

/**
 * A JSON object body of at most 4 KiB. Only application/json: a cross-site HTML form cannot send
 * that type, and a script on another origin cannot without a preflight this API never grants.
 */
export async function readObject(req: AppRequest): Promise<Record<string, unknown>> {
  const type = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new BadBody(415, 'expected Content-Type application/json');
  let raw: Buffer;
  try {
    raw = await req.bytes(BODY_MAX);
  } catch {
    throw new BadBody(413, `body above ${BODY_MAX} bytes`);
  }
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BadBody(400, 'body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadBody(400, 'body must be a JSON object');
  return v as Record<string, unknown>;
}

/** A string member of 1…max characters, or null. */
export function text(o: Record<string, unknown>, key: string, max = 200): string | null {
  const v = o[key];
  return typeof v === 'string' && v.length > 0 && v.length <= max ? v : null;
}
