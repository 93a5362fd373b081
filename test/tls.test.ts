// host/tls.ts and host/cert.ts: real handshakes against tls.createServer(tlsOptions(...)) on
// 127.0.0.1 with a pair made by host/cert.ts. Each refusal is paired with a control server using
// Node's defaults that accepts the same client, so the refusal is the options' doing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, symlinkSync, lstatSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { tlsOptions, CIPHERS } from '../host/tls.ts';
import { generateDevCert, CertExistsError, CERT_FILE, KEY_FILE, type DevCert } from '../host/cert.ts';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));

let dir: string;
let ec: DevCert, rsa: DevCert;
const servers: tls.Server[] = [];

const sockets = new Set<tls.TLSSocket>();

/** A TLS server on 127.0.0.1:0 that echoes, or sends `greeting` and ends. */
async function listen(options: tls.TlsOptions, greeting: string | null = 'hello'): Promise<{ port: number; clientErrors: Error[] }> {
  const clientErrors: Error[] = [];
  const server = tls.createServer(options, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    if (greeting === null) s.pipe(s); else s.end(greeting);
  });
  server.on('tlsClientError', (e) => clientErrors.push(e));
  servers.push(server);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { port: (server.address() as AddressInfo).port, clientErrors };
}

type Result = { ok: true; protocol: string | null; cipher: string; socket: tls.TLSSocket } | { ok: false; error: Error };

function connect(port: number, ca: string, opts: tls.ConnectionOptions = {}): Promise<Result> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...opts });
    socket.once('secureConnect', () => resolve({ ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name, socket }));
    socket.once('error', (error) => resolve({ ok: false, error }));
  });
}
async function handshake(port: number, ca: string, opts: tls.ConnectionOptions = {}): Promise<Result> {
  const r = await connect(port, ca, opts);
  if (r.ok) r.socket.destroy();
  return r;
}

const pem = (c: DevCert) => readFileSync(c.certPath, 'utf8');
const TLS11 = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'moat-tls-'));
  ec = await generateDevCert({ out: join(dir, 'ec'), name: 'dev.example' });
  rsa = await generateDevCert({ out: join(dir, 'rsa'), keyType: 'rsa' });
}, 60_000);
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
  rmSync(dir, { recursive: true, force: true });
});

describe('tlsOptions', () => {
  it('sets TLS 1.2 as the floor and an explicit AEAD-only cipher list', () => {
    const o = tlsOptions({ certificate: ec.certPath, key: ec.keyPath });
    expect(o.minVersion).toBe('TLSv1.2');
    expect(o.honorCipherOrder).toBe(true);
    expect(o.ciphers).toBe(CIPHERS);
    for (const c of CIPHERS.split(':')) {
      expect(c).toMatch(/GCM|CHACHA20/);
      expect(c).toMatch(/^(TLS_|ECDHE-)/);
    }
  });

  it('handshakes TLS 1.3 and TLS 1.2 (EC and RSA keys), verifying the certificate for localhost', async () => {
    for (const c of [ec, rsa]) {
      const { port } = await listen(tlsOptions({ certificate: c.certPath, key: c.keyPath }));
      const t13 = await handshake(port, pem(c));
      expect(t13).toMatchObject({ ok: true, protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
      const t12 = await handshake(port, pem(c), TLS12);
      expect(t12.ok).toBe(true);
      if (!t12.ok) return;
      expect(t12.protocol).toBe('TLSv1.2');
      expect(t12.cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
      expect(t12.cipher).toBe(c === ec ? 'ECDHE-ECDSA-AES128-GCM-SHA256' : 'ECDHE-RSA-AES128-GCM-SHA256');
    }
  });

  it('reads data over the connection', async () => {
    const { port } = await listen(tlsOptions({ certificate: ec.certPath, key: ec.keyPath }));
    const r = await connect(port, pem(ec));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const chunks: Buffer[] = [];
    for await (const c of r.socket) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello');
  });

  it("uses the server's cipher order in TLS 1.2", async () => {
    const { port } = await listen(tlsOptions({ certificate: ec.certPath, key: ec.keyPath }));
    const r = await handshake(port, pem(ec), { ...TLS12, ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256' });
    expect(r).toMatchObject({ ok: true, cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  });

  it('refuses a TLS 1.1 client (a default-options server accepts it)', async () => {
    const control = await listen({ cert: pem(ec), key: readFileSync(ec.keyPath), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
    expect(await handshake(control.port, pem(ec), TLS11)).toMatchObject({ ok: true, protocol: 'TLSv1.1' });

    const { port, clientErrors } = await listen(tlsOptions({ certificate: ec.certPath, key: ec.keyPath }));
    const r = await handshake(port, pem(ec), TLS11);
    expect(r.ok).toBe(false);
    await new Promise((res) => setTimeout(res, 20));
    expect(clientErrors.map((e) => (e as NodeJS.ErrnoException).code)).toContain('ERR_SSL_UNSUPPORTED_PROTOCOL');
  });

  it('refuses TLS 1.2 clients offering only CBC or static-RSA suites (Node defaults accept them)', async () => {
    const cases: [DevCert, string][] = [
      [ec, 'ECDHE-ECDSA-AES128-SHA'], [ec, 'ECDHE-ECDSA-AES256-SHA384'],
      [rsa, 'ECDHE-RSA-AES128-SHA'], [rsa, 'ECDHE-RSA-AES128-SHA256'], [rsa, 'AES128-GCM-SHA256'], [rsa, 'AES256-SHA'],
    ];
    for (const [c, cipher] of cases) {
      const client = { ...TLS12, ciphers: cipher };
      const control = await listen({ cert: pem(c), key: readFileSync(c.keyPath), ciphers: tls.DEFAULT_CIPHERS + ':AES256-SHA' });
      expect(await handshake(control.port, pem(c), client), `control ${cipher}`).toMatchObject({ ok: true, cipher });
      const { port, clientErrors } = await listen(tlsOptions({ certificate: c.certPath, key: c.keyPath }));
      expect((await handshake(port, pem(c), client)).ok, cipher).toBe(false);
      await new Promise((res) => setTimeout(res, 20));
      expect(clientErrors.map((e) => (e as NodeJS.ErrnoException).code), cipher).toContain('ERR_SSL_NO_SHARED_CIPHER');
    }
  });

  it('refuses TLS 1.2 renegotiation (a default-options server allows it)', async () => {
    // The renegotiation handshake runs as data flows: write, and wait for the callback, an error or close.
    const renegotiate = async (port: number) => {
      const r = await connect(port, pem(ec), TLS12);
      if (!r.ok) throw r.error;
      const err = await new Promise<Error | null>((res) => {
        r.socket.once('error', (e) => res(e));
        r.socket.once('close', () => res(new Error('closed')));
        r.socket.renegotiate({ rejectUnauthorized: false }, (e) => res(e ?? null));
        r.socket.write('ping');
      });
      r.socket.destroy();
      return err;
    };
    const control = await listen({ cert: pem(ec), key: readFileSync(ec.keyPath) }, null);
    expect(await renegotiate(control.port)).toBeNull();
    const { port } = await listen(tlsOptions({ certificate: ec.certPath, key: ec.keyPath }), null);
    expect((await renegotiate(port))?.message).toMatch(/no renegotiation/);
  });

  it('names the file when a certificate or key cannot be used', () => {
    const missing = join(dir, 'missing.crt');
    expect(() => tlsOptions({ certificate: missing, key: ec.keyPath })).toThrow(`tls.certificate: cannot read "${missing}": ENOENT`);
    expect(() => tlsOptions({ certificate: ec.certPath, key: join(dir, 'nokey') })).toThrow(/tls\.key: cannot read ".*nokey": ENOENT/);
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a pem');
    expect(() => tlsOptions({ certificate: junk, key: ec.keyPath })).toThrow(`tls.certificate: "${junk}" is not a PEM certificate`);
    expect(() => tlsOptions({ certificate: ec.certPath, key: junk })).toThrow(`tls.key: "${junk}" is not an unencrypted PEM private key`);
    expect(() => tlsOptions({ certificate: ec.certPath, key: rsa.keyPath })).toThrow(/tls\.key: ".*rsa.*moat-dev\.key" does not match the certificate/);
  });
});

describe('generateDevCert', () => {
  it('writes an EC P-256 pair with the SANs, a 0600 key and the SHA-256 fingerprint', () => {
    expect(ec.certPath).toBe(join(dir, 'ec', CERT_FILE));
    expect(ec.keyPath).toBe(join(dir, 'ec', KEY_FILE));
    expect(statSync(ec.keyPath).mode & 0o777).toBe(0o600);
    const x = new X509Certificate(readFileSync(ec.certPath));
    expect(x.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:dev.example');
    expect(x.checkHost('dev.example')).toBe('dev.example');
    expect(x.checkIP('::1')).toBe('::1');
    expect(x.publicKey.asymmetricKeyType).toBe('ec');
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x.ca).toBe(false);
    expect(x.fingerprint256).toBe(ec.fingerprint256);
    expect(ec.names).toEqual(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', 'DNS:dev.example']);
    expect(x.verify(x.publicKey)).toBe(true);                      // self-signed
    const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
  });

  it('makes RSA 2048 on request', () => {
    const x = new X509Certificate(readFileSync(rsa.certPath));
    expect(x.publicKey.asymmetricKeyType).toBe('rsa');
    expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(rsa.names).toEqual(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
  });

  it('verifies as 127.0.0.1 and as the given name', async () => {
    const { port } = await listen(tlsOptions({ certificate: ec.certPath, key: ec.keyPath }));
    expect((await handshake(port, pem(ec), { servername: undefined })).ok).toBe(true);      // checked against IP:127.0.0.1
    expect((await handshake(port, pem(ec), { servername: 'dev.example' })).ok).toBe(true);
    const wrong = await handshake(port, pem(ec), { servername: 'other.example' });
    expect(wrong.ok).toBe(false);
  });

  it('refuses to overwrite without force; replaces (not writes through) a symlink with force', async () => {
    const out = join(dir, 'again');
    const first = await generateDevCert({ out, days: 2 });
    await expect(generateDevCert({ out })).rejects.toBeInstanceOf(CertExistsError);
    expect(new X509Certificate(readFileSync(first.certPath)).fingerprint256).toBe(first.fingerprint256);
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me');
    rmSync(first.keyPath);
    symlinkSync(victim, first.keyPath);
    await expect(generateDevCert({ out })).rejects.toBeInstanceOf(CertExistsError);      // a dangling name counts too
    const second = await generateDevCert({ out, force: true });
    expect(second.fingerprint256).not.toBe(first.fingerprint256);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(lstatSync(second.keyPath).isFile()).toBe(true);
    expect(statSync(second.keyPath).mode & 0o777).toBe(0o600);
  });

  it('rejects bad options', async () => {
    await expect(generateDevCert({ out: join(dir, 'bad'), name: 'no spaces' })).rejects.toThrow(/bad name/);
    await expect(generateDevCert({ out: join(dir, 'bad'), days: 0 })).rejects.toThrow(/bad days/);
    await expect(generateDevCert({ out: join(dir, 'bad'), days: 1.5 })).rejects.toThrow(/bad days/);
    expect(existsSync(join(dir, 'bad', CERT_FILE))).toBe(false);
  });
});

describe('moat cert (child process)', () => {
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [MOAT, 'cert', ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('writes the pair with a 0600 key, prints paths and fingerprint, refuses overwrite without --force', () => {
    const out = join(dir, 'cli');
    const a = run(['--out', out, '--name', 'moat.local', '--days', '7']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const crt = join(out, CERT_FILE), key = join(out, KEY_FILE);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const x = new X509Certificate(readFileSync(crt));
    expect(a.stdout).toContain(crt);
    expect(a.stdout).toContain(key);
    expect(a.stdout).toContain(x.fingerprint256);
    expect(x.checkHost('moat.local')).toBe('moat.local');

    const b = run(['--out', out]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/refusing to overwrite .*--force/);
    expect(new X509Certificate(readFileSync(crt)).fingerprint256).toBe(x.fingerprint256);

    const c = run(['--out', out, '--force']);
    expect(c.code).toBe(0);
    const y = new X509Certificate(readFileSync(crt));
    expect(y.fingerprint256).not.toBe(x.fingerprint256);
    expect(c.stdout).toContain(y.fingerprint256);
    expect(statSync(key).mode & 0o777).toBe(0o600);
  });

  it('answers usage errors with status 2', () => {
    expect(run(['--days', 'ten']).code).toBe(2);
    expect(run(['--bogus']).code).toBe(2);
    expect(run(['--out']).code).toBe(2);
  });
});
