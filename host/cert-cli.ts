// `moat cert`: writes a self-signed development certificate and key (host/cert.ts).
import { CertExistsError, CertOptionError, CERT_FILE, KEY_FILE, generateDevCert } from './cert.ts';

const USAGE = `usage: moat cert [--out DIR] [--name HOST] [--days N] [--rsa] [--force]
Writes a self-signed development pair DIR/${CERT_FILE} and DIR/${KEY_FILE} (key mode 0600) for
DNS:localhost, IP:127.0.0.1, IP:::1 and HOST. For development only: browsers will warn.
  --out DIR    output directory (default: the current directory; created if missing)
  --name HOST  extra DNS name or IP address, also the subject CN (default: localhost)
  --days N     validity in days, 1-3650 (default: 365)
  --rsa        RSA 2048 instead of EC P-256
  --force      replace existing files`;

export async function certCommand(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let dir = '.', name: string | undefined, days: number | undefined, force = false, rsa = false;
  const value = (i: number, flag: string): string | null => {
    const v = args[i];
    if (v === undefined || v.startsWith('--')) { err.write(`moat cert: ${flag} needs a value\n${USAGE}\n`); return null; }
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--out') { const v = value(++i, a); if (v === null) return 2; dir = v; }
    else if (a === '--name') { const v = value(++i, a); if (v === null) return 2; name = v; }
    else if (a === '--days') {
      const v = value(++i, a); if (v === null) return 2;
      if (!/^[0-9]+$/.test(v)) { err.write(`moat cert: --days needs a whole number, not "${v}"\n`); return 2; }
      days = Number(v);
    }
    else if (a === '--force') force = true;
    else if (a === '--rsa') rsa = true;
    else if (a === '--help' || a === '-h') { out.write(USAGE + '\n'); return 0; }
    else { err.write(`moat cert: unknown argument ${a}\n${USAGE}\n`); return 2; }
  }
  try {
    const c = await generateDevCert({ out: dir, name, days, force, keyType: rsa ? 'rsa' : 'ec' });
    out.write([
      `moat cert: wrote a self-signed development certificate (${c.keyType === 'rsa' ? 'RSA 2048' : 'EC P-256'})`,
      `  certificate  ${c.certPath}`,
      `  key          ${c.keyPath} (mode 0600)`,
      `  names        ${c.names.join(', ')}`,
      `  valid until  ${c.notAfter.toISOString()}`,
      `  SHA-256      ${c.fingerprint256}`,
    ].join('\n') + '\n');
    return 0;
  } catch (e) {
    err.write(`moat cert: ${(e as Error).message}\n`);
    return e instanceof CertOptionError ? 2 : 1;
  }
}
