// `moat user`: manage the users file (host/auth/users.ts) — people with passwords, devices with
// tokens. Passwords are read from stdin, never taken from the command line, where other local users
// can see them (ps) and the shell keeps them (history).
import { MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, passwordProblem } from './auth/passwords.ts';
import { ROLES, isRole, type Role } from './auth/roles.ts';
import { NAME_RULE, UserStore, UserStoreError, nameProblem } from './auth/users.ts';
import { showValue } from './units.ts';
import { OpLog } from './oplog.ts';
import { userInfo } from 'node:os';

const USAGE = `usage: moat user add NAME --role ROLE [--device] --file FILE [--oplog FILE]
       moat user passwd NAME --file FILE [--oplog FILE]
       moat user revoke NAME --file FILE [--oplog FILE]
       moat user rotate NAME --file FILE [--oplog FILE]
       moat user list --file FILE [--json]
  add       add a user (password on stdin), or with --device a device (its token is printed once)
  passwd    set a user's new password (on stdin); the user's live sessions end at once
  revoke    revoke a user or device for good; its live sessions end at once
  rotate    give a device a new token; the old one stops working at once
  list      names, kinds, roles and status, never secrets; --json for a JSON array
  --role ROLE  ${ROLES.join(', ')} (each may do everything the ones before it may)
  --file FILE  the users file: JSON, written atomically with mode 0600, created by the first add
  --oplog FILE append the change to the operation log (config log.operations.path; moat oplog verify)
A password is all of stdin less one trailing newline (on a terminal: typed twice, not echoed).
It must be at least ${MIN_PASSWORD_CHARS} characters and at most ${MAX_PASSWORD_BYTES} bytes, with no control characters.
Exit status: 0 done, 1 refused (bad name, role or password, unknown or duplicate name), 2 usage.`;

interface Parsed {
  sub: string;
  names: string[];
  file?: string;
  role?: string;
  oplog?: string;
  device: boolean;
  json: boolean;
}

/** Which options each subcommand takes. */
const OPTIONS: Record<string, string[]> = {
  add: ['--file', '--role', '--device', '--oplog'],
  passwd: ['--file', '--oplog'],
  revoke: ['--file', '--oplog'],
  rotate: ['--file', '--oplog'],
  list: ['--file', '--json'],
};

export async function userCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) return usage('user', 'missing subcommand: add, passwd, revoke, rotate or list (moat user --help)');
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!(sub in OPTIONS)) return usage('user', `unknown subcommand ${showValue(sub)} (add, passwd, revoke, rotate, list)`);
  const p = parse(sub, rest);
  if (typeof p === 'number') return p;
  try {
    if (sub === 'list') return list(p);
    const code = sub === 'add' ? await add(p) : sub === 'passwd' ? await passwd(p) : sub === 'revoke' ? revoke(p) : rotate(p);
    // A change made from the shell is an operator action too: into the same hash-chained log the
    // dashboard writes (log.operations.path), never with the password or token.
    if (code === 0 && p.oplog) {
      OpLog.open(p.oplog).append({ actor: `shell:${userInfo().username}`, role: null, action: `user.${sub}`, target: p.names[0], outcome: 'ok', detail: { file: p.file! } });
    }
    return code;
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    // Store refusals already say what and why; anything else (say, a directory we cannot write) gets the file named.
    process.stderr.write(`moat user ${sub}: ${e instanceof UserStoreError ? e.message : `${p.file}: ${e.message}`}\n`);
    return 1;
  }
}

function usage(where: string, reason: string): number {
  process.stderr.write(`moat ${where}: ${reason}\n`);
  return 2;
}

function refuse(sub: string, reason: string): number {
  process.stderr.write(`moat user ${sub}: ${reason}\n`);
  return 1;
}

/** Options and NAME; a number is the exit status of a usage error already reported. */
function parse(sub: string, args: string[]): Parsed | number {
  const p: Parsed = { sub, names: [], device: false, json: false };
  const where = `user ${sub}`;
  const allowed = OPTIONS[sub];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); return 0; }
    if (!a.startsWith('-')) { p.names.push(a); continue; }
    // An unknown word starting with '-' might be a password typed in the wrong place: echo only option-like ones.
    if (!allowed.includes(a)) return usage(where, /^--?[a-z][a-z-]*$/.test(a) ? `unknown option ${a} (moat user --help)` : 'unknown option (moat user --help)');
    if (a === '--device') p.device = true;
    else if (a === '--json') p.json = true;
    else {
      const v = args[++i];
      if (v === undefined || v === '' || v.startsWith('--')) return usage(where, `${a} needs a value`);
      const key = a === '--file' ? 'file' : a === '--oplog' ? 'oplog' : 'role';
      if (p[key] !== undefined) return usage(where, `${a} given twice`);
      p[key] = v;
    }
  }
  if (p.file === undefined) return usage(where, '--file FILE is required (the users file)');
  const wantName = sub !== 'list';
  if (wantName && p.names.length === 0) return usage(where, 'missing NAME');
  // Extra words are not echoed: the likeliest one is a password someone tried to pass as an argument.
  if (p.names.length > (wantName ? 1 : 0)) {
    return usage(where, 'unexpected extra argument (one NAME at a time; passwords are read from stdin, never from the command line)');
  }
  if (sub === 'add' && p.role === undefined) return usage(where, '--role ROLE is required (viewer, operator or admin)');
  return p;
}

function list(p: Parsed): number {
  const rows = UserStore.load(p.file!).list();
  if (p.json) {
    process.stdout.write(JSON.stringify(rows) + '\n');
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(`no users or devices in ${p.file}\n`);
    return 0;
  }
  const table = [['NAME', 'KIND', 'ROLE', 'STATUS', 'GENERATION'],
    ...rows.map((r) => [r.name, r.kind, r.role, r.revoked ? 'revoked' : 'active', String(r.generation)])];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  process.stdout.write(table.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n') + '\n');
  return 0;
}

/** NAME from the command line, or null after saying why it is refused. */
function checkedName(p: Parsed): string | null {
  const name = p.names[0];
  if (nameProblem(name)) { refuse(p.sub, `NAME ${showValue(name)} — ${NAME_RULE}`); return null; }
  return name;
}

async function add(p: Parsed): Promise<number> {
  const name = checkedName(p);
  if (name === null) return 1;
  if (!isRole(p.role)) return refuse('add', `--role ${showValue(p.role)} — must be one of ${ROLES.map((r) => `"${r}"`).join(', ')}`);
  const role: Role = p.role;
  const store = UserStore.load(p.file!);
  // Refuse a duplicate before asking for a password nobody will use.
  if (store.list().some((r) => r.name === name)) return refuse('add', `NAME "${name}" — already in ${p.file} (names are never reused, even once revoked)`);
  if (p.device) {
    const token = store.addDevice(name, role);
    store.save();
    showToken(name, token, `added device "${name}" (${role}) to ${p.file}`);
    return 0;
  }
  const password = await readNewPassword('add', name);
  if (typeof password === 'number') return password;
  await store.addUser(name, role, password);
  store.save();
  process.stdout.write(`moat user: added user "${name}" (${role}) to ${p.file}\n`);
  return 0;
}

async function passwd(p: Parsed): Promise<number> {
  const name = checkedName(p);
  if (name === null) return 1;
  const store = UserStore.load(p.file!);
  const r = store.list().find((x) => x.name === name);
  if (!r) return refuse('passwd', `NAME "${name}" — no such user in ${p.file}`);
  if (r.kind !== 'user') return refuse('passwd', `NAME "${name}" — is a device, which has a token, not a password (use moat user rotate)`);
  if (r.revoked) return refuse('passwd', `NAME "${name}" — is revoked (revocation is permanent; add a new name)`);
  const password = await readNewPassword('passwd', name);
  if (typeof password === 'number') return password;
  await store.setPassword(name, password);
  store.save();
  process.stdout.write(`moat user: changed the password of "${name}"; sessions made before end at once\n`);
  return 0;
}

function revoke(p: Parsed): number {
  const name = checkedName(p);
  if (name === null) return 1;
  const store = UserStore.load(p.file!);
  const r = store.list().find((x) => x.name === name);
  if (!r) return refuse('revoke', `NAME "${name}" — no such user or device in ${p.file}`);
  if (!store.revoke(name)) {
    process.stdout.write(`moat user: "${name}" was already revoked\n`);
    return 0;
  }
  store.save();
  process.stdout.write(`moat user: revoked ${r.kind} "${name}"; its sessions and credentials stop working at once\n`);
  return 0;
}

function rotate(p: Parsed): number {
  const name = checkedName(p);
  if (name === null) return 1;
  const store = UserStore.load(p.file!);
  const r = store.list().find((x) => x.name === name);
  if (!r) return refuse('rotate', `NAME "${name}" — no such device in ${p.file}`);
  if (r.kind !== 'device') return refuse('rotate', `NAME "${name}" — is a user, which has a password, not a token (use moat user passwd)`);
  if (r.revoked) return refuse('rotate', `NAME "${name}" — is revoked (revocation is permanent; add a new name)`);
  const token = store.rotateDevice(name);
  store.save();
  showToken(name, token, `new token for device "${name}" in ${p.file}; the old token no longer works`);
  return 0;
}

/** The token alone on the first line, so a script can take it with `head -n 1`. */
function showToken(name: string, token: string, what: string): void {
  process.stdout.write(`${token}\n`
    + `moat user: ${what}\n`
    + `The token above is not stored in clear (only its SHA-256) and cannot be shown again: copy it now.\n`
    + `If it is lost, \`moat user rotate ${name}\` issues a new one.\n`);
}

/** A new password from stdin that passes the policy, or the exit status after saying why not. */
async function readNewPassword(sub: string, name: string): Promise<string | number> {
  const what = 'password (stdin)';
  let password: string | null;
  if (process.stdin.isTTY) {
    const first = await readHidden(`new password for "${name}": `);
    if (first === null) return refuse(sub, 'cancelled');
    const again = await readHidden('the same again: ');
    if (again === null) return refuse(sub, 'cancelled');
    if (first !== again) return refuse(sub, `${what} — the two entries differ`);
    password = first;
  } else {
    password = await readStdin();
    if (password === null) return refuse(sub, `${what} — must be valid UTF-8 text`);
  }
  if (password === '') return refuse(sub, `${what} — empty; pipe the password in, e.g. from a password manager`);
  const problem = passwordProblem(password);
  if (problem) return refuse(sub, `${what} — ${problem}`);
  return password;
}

/**
 * All of stdin less one trailing newline; null when it is not UTF-8. Reading stops a little past
 * the policy's limit, so a huge or endless input costs no memory (the policy then refuses it).
 */
async function readStdin(): Promise<string | null> {
  const limit = MAX_PASSWORD_BYTES + 8;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > limit) break;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    return null;
  }
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** One line from the terminal without echo; null on Ctrl-C. */
function readHidden(prompt: string): Promise<string | null> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve) => {
    let line = '';
    const finish = (v: string | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      resolve(v);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\x04') return finish(line);
        if (ch === '\x03') return finish(null);
        if (ch === '\x7f' || ch === '\b') line = [...line].slice(0, -1).join('');
        else line += ch;
      }
    };
    stdin.on('data', onData);
  });
}
