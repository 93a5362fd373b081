// TLS on https listeners: old protocol versions and CBC suites offered by a client must be
// refused, and the configured certificate must not be about to expire or carry a short RSA key.
// With no https listener at all, plaintext-only is reported (low: many devices sit behind a TLS
// terminator, but then the link to it is plaintext).
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Finding, Probe, ProbeContext, Endpoint } from '../types.ts';
import { evidence } from '../evidence.ts';

const DAY = 86_400_000;

function handshake(ep: Endpoint, opts: tls.ConnectionOptions): Promise<{ ok: boolean; protocol: string | null; cipher: string | null; error: string | null }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: ep.host, port: ep.port, rejectUnauthorized: false, ...opts });
    const t = setTimeout(() => { s.destroy(); resolve({ ok: false, protocol: null, cipher: null, error: 'timeout' }); }, 3000);
    s.once('secureConnect', () => { clearTimeout(t); const r = { ok: true, protocol: s.getProtocol(), cipher: s.getCipher()?.name ?? null, error: null }; s.destroy(); resolve(r); });
    s.once('error', (e) => { clearTimeout(t); s.destroy(); resolve({ ok: false, protocol: null, cipher: null, error: e.message }); });
  });
}

export const tlsProbe: Probe = {
  id: 'tls', class: 'tls', cwe: 327, severity: 'high', profiles: ['quick', 'full'],
  title: 'TLS protocol versions, suites and certificate',
  help: 'https listeners must refuse TLS 1.0/1.1 and CBC suites; the certificate must be valid for a while and use a strong key.',
  targets: (ctx) => (ctx.https ? ['tls', 'tls.certificate'] : ['web.listen']),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const ep = ctx.https;
    if (!ep) {
      out.push(ctx.finding(this, {
        severity: 'low', cwe: 319, confidence: 'high', target: 'web.listen', kind: 'plaintext-only',
        title: 'No https listener: credentials and sessions travel in plaintext',
        expected: 'an https:// listener (or a TLS terminator on the same host)',
        observed: `listeners: ${ctx.config.web.listen.map((l) => `${l.scheme}://${l.host}:${l.port}`).join(', ')}`,
        evidence: evidence(`web.listen: ${JSON.stringify(ctx.config.web.listen.map((l) => `${l.scheme}://${l.host}:${l.port}`))}`),
        recommendation: "listen on https:// and set tls.certificate / tls.key (moat cert makes a development pair) and tls.hsts",
      }));
      return out;
    }
    await ctx.spend(2);
    const old = await handshake(ep, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
    if (old.ok) {
      out.push(ctx.finding(this, {
        confidence: 'high', target: 'tls', kind: 'old-protocol',
        title: `TLS ${old.protocol} accepted`,
        expected: 'TLS 1.2 and 1.3 only',
        observed: `handshake completed with ${old.protocol} (${old.cipher})`,
        evidence: evidence(`client offered TLSv1..TLSv1.1; server chose ${old.protocol} ${old.cipher}`),
        recommendation: 'keep host/tls.ts minVersion TLSv1.2; nothing in the config lowers it',
      }));
    }
    const cbc = await handshake(ep, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA' });
    if (cbc.ok) {
      out.push(ctx.finding(this, {
        severity: 'medium', confidence: 'high', target: 'tls', kind: 'cbc-suite',
        title: `CBC suite ${cbc.cipher} accepted`,
        expected: 'ECDHE with AES-GCM or ChaCha20-Poly1305 only',
        observed: `handshake completed with ${cbc.cipher}`,
        evidence: evidence(`client offered only ECDHE-*-AES128-SHA; server chose ${cbc.cipher}`),
        recommendation: 'keep host/tls.ts CIPHERS (AEAD suites only)',
      }));
    }
    const tc = ctx.config.tls;
    if (tc) {
      try {
        const cert = new X509Certificate(readFileSync(tc.certificate));
        const left = Date.parse(cert.validTo) - Date.now();
        if (left < 30 * DAY) {
          out.push(ctx.finding(this, {
            severity: left <= 0 ? 'high' : 'medium', cwe: 298, confidence: 'high', target: 'tls.certificate', kind: left <= 0 ? 'expired' : 'expires-soon',
            title: left <= 0 ? 'TLS certificate expired' : `TLS certificate expires in ${Math.max(0, Math.floor(left / DAY))} days`,
            expected: 'at least 30 days of validity left',
            observed: `valid to ${cert.validTo}`,
            evidence: evidence(`subject ${cert.subject.replace(/\n/g, ', ')}; valid ${cert.validFrom} – ${cert.validTo}`),
            recommendation: 'renew the certificate named by tls.certificate (and tls.key); the server reads them at start',
          }));
        }
        const d = cert.publicKey.asymmetricKeyDetails;
        if (cert.publicKey.asymmetricKeyType === 'rsa' && (d?.modulusLength ?? 0) < 2048) {
          out.push(ctx.finding(this, {
            severity: 'high', cwe: 326, confidence: 'high', target: 'tls.certificate', kind: 'short-rsa-key',
            title: `RSA key of ${d?.modulusLength} bits`,
            expected: 'RSA 2048 bits or more (or EC P-256)',
            observed: `${d?.modulusLength}-bit RSA`,
            evidence: evidence(`public key: rsa ${d?.modulusLength} bits`),
            recommendation: 'issue a new certificate with an EC P-256 or RSA ≥ 2048 key (moat cert makes EC P-256) and point tls.certificate / tls.key at it',
          }));
        }
      } catch (e) {
        ctx.note(`tls: could not read the certificate (${(e as Error).message})`);
      }
    }
    return out;
  },
};
