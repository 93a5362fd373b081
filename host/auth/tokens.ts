// Device credentials: long random bearer tokens for machines that cannot type a password.
//
// Only a SHA-256 digest of a token is stored. A token is 256 random bits, so unlike a password it
// cannot be guessed or brute-forced from its digest however fast the hash is; a fast hash is
// therefore safe here, and keeps checking a token on every request cheap (scrypt would cost tens of
// milliseconds and megabytes per request). Passwords come from people and are guessable, which is
// why they get scrypt instead.
import { createHash, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32;
const PREFIX = 'moat_';

/** The shape of a token newDeviceToken issues; the prefix lets secret scanners and log filters spot one. */
export const DEVICE_TOKEN = /^moat_[A-Za-z0-9_-]{43}$/;

/**
 * A fresh token for the named device. The name is not encoded in it: a token carries no identity
 * or structure beyond its prefix, so a leaked one says nothing about which device it opens.
 */
export function newDeviceToken(name: string): string {
  if (typeof name !== 'string' || name === '') throw new TypeError('a device token needs a device name');
  return PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Lower-case hex SHA-256 of the token: what the users file keeps. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
