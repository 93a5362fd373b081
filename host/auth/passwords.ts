// Password hashing with scrypt (node:crypto), stored as `scrypt$N$r$p$saltB64$hashB64`. The cost
// parameters travel with each hash so they can be raised later without breaking existing users, and
// a self-audit can spot hashes made with weaker ones (hashParamsWeak).
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** 2^14 × r=8 is 16 MiB and some tens of milliseconds per guess: the usual interactive-login choice. */
const COST = { N: 1 << 14, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

export const MIN_PASSWORD_CHARS = 10;
export const MAX_PASSWORD_BYTES = 1024;

// Bounds on what a stored hash may ask for: a hand-edited or planted users file must not make one
// login allocate gigabytes or spin for minutes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

export interface HashParams {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^[1-9][0-9]{0,9}$/;

function base64(s: string): Buffer | null {
  return s !== '' && BASE64.test(s) ? Buffer.from(s, 'base64') : null;
}

/** The parts of an encoded hash, or null when it is not one this module could have written or can check. */
export function decodeHash(encoded: unknown): HashParams | null {
  if (typeof encoded !== 'string') return null;
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  if (!DECIMAL.test(parts[1]) || !DECIMAL.test(parts[2]) || !DECIMAL.test(parts[3])) return null;
  const N = Number(parts[1]), r = Number(parts[2]), p = Number(parts[3]);
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || r > MAX_R || p > MAX_P) return null;
  if (scryptMemory(N, r, p) > MAX_SCRYPT_MEMORY) return null;
  const salt = base64(parts[4]), hash = base64(parts[5]);
  if (!salt || !hash || hash.length < 16 || hash.length > 64) return null;
  return { N, r, p, salt, hash };
}

/** What OpenSSL allocates for these parameters (its V and B arrays); maxmem must cover it. */
function scryptMemory(N: number, r: number, p: number): number {
  return 128 * r * (N + 2) + 128 * r * p;
}

function derive(password: string, salt: Buffer, keyBytes: number, N: number, r: number, p: number): Promise<Buffer> {
  // NFC: the same password typed on systems that compose accents differently must match.
  const pw = password.normalize('NFC');
  const maxmem = scryptMemory(N, r, p) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(pw, salt, keyBytes, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, COST.N, COST.r, COST.p);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Never throws: a malformed encoding or any scrypt failure is simply "does not match". */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  try {
    const h = decodeHash(encoded);
    if (!h || typeof password !== 'string') return false;
    const key = await derive(password, h.salt, h.hash.length, h.N, h.r, h.p);
    return timingSafeEqual(key, h.hash);
  } catch {
    return false;
  }
}

/** True when a stored hash is cheaper to attack than what hashPassword writes today (or unreadable). */
export function hashParamsWeak(encoded: string): boolean {
  const h = decodeHash(encoded);
  if (!h) return true;
  return h.N < COST.N || h.r < COST.r || h.p < COST.p || h.salt.length < SALT_BYTES || h.hash.length < KEY_BYTES;
}

// C0, DEL, C1 controls, and lone surrogates (which UTF-8 cannot carry, so two different strings
// would hash alike).
const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Cs}/u;

/** Why a new password is refused, or null when it is acceptable. The text never repeats the password. */
export function passwordProblem(password: string): string | null {
  if (typeof password !== 'string' || password === '') return 'a password is required';
  if (CONTROL.test(password)) return 'must not contain control characters (newlines, tabs, escapes)';
  if (LONE_SURROGATE.test(password)) return 'must be valid Unicode text';
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return `must be at most ${MAX_PASSWORD_BYTES} bytes`;
  if ([...password.normalize('NFC')].length < MIN_PASSWORD_CHARS) return `must be at least ${MIN_PASSWORD_CHARS} characters`;
  return null;
}
