// A self-signed development certificate and key, made with the `selfsigned` npm package (pure
// JavaScript over WebCrypto), so nothing outside npm is needed — no openssl command.
//
// EC P-256 by default (RSA 2048 on request), signed with SHA-256, valid from one minute ago for
// `days` days, subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1 plus the given name, CN = the
// name, basicConstraints CA:false, keyUsage digitalSignature (+ keyEncipherment for RSA),
// extKeyUsage serverAuth. The key is written with mode 0600; neither file is ever written through
// an existing file or symlink (O_EXCL), and existing files are only replaced with `force`.
import { X509Certificate } from 'node:crypto';
import { chmod, lstat, mkdir, unlink, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { generate } from 'selfsigned';

export const CERT_FILE = 'moat-dev.crt';
export const KEY_FILE = 'moat-dev.key';

export interface DevCertOptions {
  /** Directory for moat-dev.crt and moat-dev.key (created if missing). */
  out: string;
  /** Extra host name or IP address for the certificate (also its CN); default "localhost". */
  name?: string;
  /** Validity in days, 1–3650; default 365. */
  days?: number;
  /** Replace existing files. */
  force?: boolean;
  /** Default "ec" (P-256). */
  keyType?: 'ec' | 'rsa';
}

export interface DevCert {
  certPath: string;
  keyPath: string;
  /** SHA-256 fingerprint of the certificate, "AB:CD:…". */
  fingerprint256: string;
  /** The subjectAltName entries, e.g. ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]. */
  names: string[];
  notAfter: Date;
  keyType: 'ec' | 'rsa';
}

/** A bad name, days or key type. */
export class CertOptionError extends Error {
  constructor(message: string) { super(message); this.name = 'CertOptionError'; }
}

/** The output files already exist (and `force` was not given). */
export class CertExistsError extends Error {
  constructor(readonly paths: string[]) {
    super(`refusing to overwrite ${paths.join(' and ')} (use --force to replace)`);
    this.name = 'CertExistsError';
  }
}

const HOSTNAME = /^(?=.{1,253}$)(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

async function exists(p: string): Promise<boolean> {
  try { await lstat(p); return true; } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Generates the pair and writes it into `out`. Throws CertExistsError, or Error on a bad option. */
export async function generateDevCert(opts: DevCertOptions): Promise<DevCert> {
  const name = opts.name ?? 'localhost';
  const days = opts.days ?? 365;
  const keyType = opts.keyType ?? 'ec';
  const ipVersion = isIP(name);
  if (!ipVersion && !HOSTNAME.test(name)) throw new CertOptionError(`bad name "${name}": a DNS host name or an IP address is expected`);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new CertOptionError(`bad days "${days}": an integer from 1 to 3650 is expected`);
  if (keyType !== 'ec' && keyType !== 'rsa') throw new CertOptionError(`bad key type "${keyType as string}": ec or rsa`);

  const outDir = resolve(opts.out);
  const certPath = join(outDir, CERT_FILE);
  const keyPath = join(outDir, KEY_FILE);
  await mkdir(outDir, { recursive: true });
  const present = [];
  for (const p of [certPath, keyPath]) if (await exists(p)) present.push(p);
  if (present.length && !opts.force) throw new CertExistsError(present);

  const alt: { type: 2 | 7; value?: string; ip?: string }[] = [
    { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' },
  ];
  const known = (e: { value?: string; ip?: string }) => ipVersion ? e.ip === name : e.value?.toLowerCase() === name.toLowerCase();
  if (!alt.some(known)) alt.push(ipVersion ? { type: 7, ip: name } : { type: 2, value: name });

  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + days * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: name }], {
    keyType,
    ...(keyType === 'rsa' ? { keySize: 2048 } : { curve: 'P-256' as const }),
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: keyType === 'rsa', critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: alt },
    ],
  });
  const x509 = new X509Certificate(pems.cert);

  // Replace, never write through: remove what is there, then create exclusively.
  for (const p of present) await unlink(p);
  await writeFile(keyPath, pems.private, { mode: 0o600, flag: 'wx' });
  await chmod(keyPath, 0o600);                      // whatever the umask
  await writeFile(certPath, pems.cert, { mode: 0o644, flag: 'wx' });

  return {
    certPath,
    keyPath,
    fingerprint256: x509.fingerprint256,
    names: alt.map((e) => e.type === 7 ? `IP:${e.ip}` : `DNS:${e.value}`),
    notAfter: new Date(x509.validTo),
    keyType,
  };
}
