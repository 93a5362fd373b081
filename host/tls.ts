// TLS settings for the HTTPS listeners: TLS 1.2 and 1.3 only, forward-secret AEAD suites only.
//
// TLS 1.2 suites: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 (ECDSA and RSA certificates).
// No CBC suites (Node 20's default list still accepts e.g. ECDHE-RSA-AES128-SHA), no static RSA key
// exchange, no DHE (no dhparam is configured). TLS 1.3 suites are the three standard AEADs. The
// server's order wins (honorCipherOrder); ecdhCurve keeps Node's default (X25519, P-256, P-384).
//
// TLS compression (CRIME): Node's bundled OpenSSL is built without zlib, and OpenSSL 1.1+/3 disable
// compression by default, so no Node build negotiates it; SSL_OP_NO_COMPRESSION is set anyway.
// Renegotiation (TLS 1.2) is refused with SSL_OP_NO_RENEGOTIATION.
import { readFileSync } from 'node:fs';
import { constants, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { SecureContextOptions, TlsOptions } from 'node:tls';

export const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
];
/** The `ciphers` string (Node routes the TLS_* names to the TLS 1.3 suite list). */
export const CIPHERS = [...TLS13_SUITES, ...TLS12_CIPHERS].join(':');

function readPem(what: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`tls.${what}: cannot read "${file}": ${err.code ?? err.message}`);
  }
}

/**
 * Server options for tls.createServer / https.createServer from the config's certificate and key
 * files (PEM). Throws an Error naming the file when one cannot be read or parsed, or when the key
 * does not belong to the certificate.
 */
export function tlsOptions(cfg: { certificate: string; key: string }): SecureContextOptions & TlsOptions {
  const cert = readPem('certificate', cfg.certificate);
  const key = readPem('key', cfg.key);
  let x509: X509Certificate;
  try { x509 = new X509Certificate(cert); } catch (e) {
    throw new Error(`tls.certificate: "${cfg.certificate}" is not a PEM certificate (${(e as Error).message})`);
  }
  let keyObj: KeyObject;
  try { keyObj = createPrivateKey(key); } catch (e) {
    throw new Error(`tls.key: "${cfg.key}" is not an unencrypted PEM private key (${(e as Error).message})`);
  }
  if (!x509.checkPrivateKey(keyObj)) {
    throw new Error(`tls.key: "${cfg.key}" does not match the certificate "${cfg.certificate}"`);
  }
  return {
    cert,
    key,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: CIPHERS,
    honorCipherOrder: true,
    secureOptions: constants.SSL_OP_NO_COMPRESSION | constants.SSL_OP_NO_RENEGOTIATION,
  };
}
