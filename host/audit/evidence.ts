// Evidence for a finding: a bounded excerpt with every secret masked, so a report can be shared
// (pasted into a ticket, uploaded as SARIF) without leaking a password, a token or a session.
import { createHash } from 'node:crypto';

export const EVIDENCE_MAX = 512;

const SECRET_FIELDS = /^((?:set-)?cookie|authorization|proxy-authorization|x-moat-audit|x-csrf-token)(\s*:\s*)(.*)$/gim;
const SECRET_JSON = /("(?:password|passwd|pass|token|csrf|secret|session|key)"\s*:\s*")([^"]*)(")/gi;
const SECRET_FORM = /\b(password|passwd|token|secret)=([^&\s]*)/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;

/** Masks secrets in `text`; `extra` are literal values to hide wherever they appear (known passwords, tokens). */
export function mask(text: string, extra: (string | null | undefined)[] = []): string {
  let out = text
    .replace(SECRET_FIELDS, (_, k: string, sep: string) => `${k}${sep}***`)
    .replace(SECRET_JSON, (_, a: string, _v: string, b: string) => `${a}***${b}`)
    .replace(SECRET_FORM, (_, k: string) => `${k}=***`)
    .replace(BEARER, (_, b: string) => `${b}***`);
  for (const s of extra) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}

/** Masked, control characters made visible, cut to EVIDENCE_MAX bytes. */
export function evidence(text: string, extra: (string | null | undefined)[] = []): string {
  const visible = mask(text, extra).replace(/\r\n/g, '\n').replace(/\r/g, '\\r').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const buf = Buffer.from(visible, 'utf8');
  if (buf.length <= EVIDENCE_MAX) return visible;
  return buf.subarray(0, EVIDENCE_MAX - 3).toString('utf8').replace(/\uFFFD$/, '') + '...';
}

/** The stable identity of a finding: probe, target and the kind of observation, never a nonce. */
export function fingerprintOf(probe: string, target: string, kind: string): string {
  return createHash('sha256').update(`${probe}\n${target}\n${kind}`).digest('hex');
}
