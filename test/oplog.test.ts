// The operation log (host/oplog.ts) and `moat oplog` (host/oplog-cli.ts): records checked against an
// independent implementation of the documented format, every kind of tampering named by line, and
// the command as an operator runs it, in a child process.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_TEXT, OpLog, OpLogError, ZERO_HASH, readOpLog, verifyOpLog, type OpEntry } from '../host/oplog.ts';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));
const KEY = Buffer.from('k3y-for-the-oplog-tests-0123456789');
const OTHER_KEY = Buffer.from('another-key-entirely-0123456789');
const ORDER = ['seq', 'time', 'actor', 'role', 'action', 'target', 'outcome', 'detail', 'client', 'prev', 'hash'];
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'moat-oplog-'));
  file = join(dir, 'ops.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A clock one second per call, so times are known. */
function clock(start = T0): () => number {
  let t = start;
  return () => (t += 1000) - 1000;
}

function entry(i: number): OpEntry {
  return { actor: `op${i}`, role: 'operator', action: 'user.revoke', target: `user${i}`, outcome: 'ok', detail: { reason: `case ${i}` }, client: '192.0.2.7' };
}

function fill(n: number, key?: Buffer): OpLog {
  const log = OpLog.open(file, { key, now: clock() });
  for (let i = 1; i <= n; i++) log.append(entry(i));
  return log;
}

const lines = () => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const writeLines = (ls: string[]) => writeFileSync(file, ls.map((l) => l + '\n').join(''));

// The documented format, written again here: canonical JSON is the record without `hash`, keys in
// the documented order; the hash is SHA-256 of it, or HMAC-SHA256 with a key.
function hashOf(rec: Record<string, unknown>, key?: Buffer): string {
  const { hash: _, ...rest } = rec;
  const text = JSON.stringify(rest);
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(text).digest('hex');
}
function seal(rec: Record<string, unknown>, key?: Buffer): string {
  const { hash: _, ...rest } = rec;
  return JSON.stringify({ ...rest, hash: hashOf(rest, key) });
}
const parse = (l: string) => JSON.parse(l) as Record<string, unknown>;

/** Rewrites lines from `from` (1-based) on so that every seq, prev and hash is right again. */
function rechain(ls: string[], from: number, key?: Buffer): string[] {
  const out = ls.slice();
  for (let i = from - 1; i < out.length; i++) {
    const r = parse(out[i]);
    r.seq = i + 1;
    r.prev = i === 0 ? ZERO_HASH : parse(out[i - 1]).hash;
    out[i] = seal(r, key);
  }
  return out;
}

describe('append and verify', () => {
  it('round trip: seq, time, prev links and hashes agree with an independent implementation', () => {
    const log = OpLog.open(file, { now: clock() });
    const returned = [1, 2, 3].map((i) => log.append(entry(i)));
    const ls = lines();
    expect(ls).toHaveLength(3);
    let prev = ZERO_HASH;
    ls.forEach((l, i) => {
      const r = parse(l);
      expect(r).toEqual(returned[i]);
      expect(r).toMatchObject({ seq: i + 1, time: new Date(T0 + i * 1000).toISOString(), actor: `op${i + 1}`, role: 'operator', action: 'user.revoke', outcome: 'ok', prev });
      expect(r.hash).toBe(hashOf(r));
      expect(seal(r)).toBe(l);
      prev = r.hash as string;
    });
    expect(log.length).toBe(3);
    expect(log.head).toBe(prev);
    expect(verifyOpLog(file)).toEqual({ ok: true, records: 3, head: prev });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('canonical order: documented keys in order, absent optional keys left out, detail keys sorted', () => {
    const log = OpLog.open(file);
    log.append({ actor: 'alice', role: 'admin', action: 'config.reload', outcome: 'failed', detail: { zeta: 1, alpha: 'a', Mid: true, 'b.c': -2.5 }, client: '::1', target: '/etc/moat.json5' });
    log.append({ actor: 'anonymous', role: null, action: 'login', outcome: 'denied' });
    const [a, b] = lines().map(parse);
    expect(Object.keys(a)).toEqual(ORDER);
    expect(Object.keys(a.detail as object)).toEqual(['Mid', 'alpha', 'b.c', 'zeta']);
    expect(a.detail).toEqual({ Mid: true, alpha: 'a', 'b.c': -2.5, zeta: 1 });
    expect(Object.keys(b)).toEqual(['seq', 'time', 'actor', 'role', 'action', 'outcome', 'prev', 'hash']);
    expect(b.role).toBeNull();
    expect(verifyOpLog(file).ok).toBe(true);
  });

  it('a new log: created empty with mode 0600, verifies with 0 records and a head of zeros', () => {
    const log = OpLog.open(file);
    expect(statSync(file).size).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect([log.length, log.head]).toEqual([0, ZERO_HASH]);
    expect(verifyOpLog(file)).toEqual({ ok: true, records: 0, head: ZERO_HASH });
  });

  it('with a key the hashes are HMAC-SHA256; without the key or with another one line 1 fails', () => {
    fill(3, KEY);
    for (const l of lines()) expect(parse(l).hash).toBe(hashOf(parse(l), KEY));
    expect(verifyOpLog(file, { key: KEY })).toMatchObject({ ok: true, records: 3 });
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 1, reason: 'hash mismatch' });
    expect(verifyOpLog(file, { key: OTHER_KEY })).toEqual({ ok: false, line: 1, reason: 'hash mismatch' });
  });

  it('a key shorter than 16 bytes is refused', () => {
    expect(() => OpLog.open(file, { key: Buffer.from('short') })).toThrow(/at least 16 bytes/);
    expect(() => verifyOpLog(file, { key: Buffer.alloc(15) })).toThrow(/at least 16 bytes/);
  });

  it('a missing file cannot be verified (and is not created)', () => {
    expect(() => verifyOpLog(file)).toThrow(new OpLogError(`${file}: cannot read the operation log: no such file`));
    expect(() => statSync(file)).toThrow();
  });
});

describe('tampering is found, at the right line', () => {
  beforeEach(() => { fill(5); });

  it('an edited field: hash mismatch', () => {
    const ls = lines();
    ls[2] = ls[2].replace('"actor":"op3"', '"actor":"op9"');
    writeLines(ls);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 3, reason: 'hash mismatch' });
  });

  it('an edited outcome (denied made ok) in the last record', () => {
    const log = OpLog.open(file);
    log.append({ actor: 'eve', role: null, action: 'login', outcome: 'denied' });
    const ls = lines();
    ls[5] = ls[5].replace('"denied"', '"ok"');
    writeLines(ls);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 6, reason: 'hash mismatch' });
  });

  it('a deleted middle line: sequence gap', () => {
    const ls = lines();
    ls.splice(2, 1);
    writeLines(ls);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 3, reason: 'sequence gap (expected 3, found 4)' });
  });

  it('a deleted middle line with the later ones renumbered: broken chain', () => {
    const ls = lines();
    ls.splice(2, 1);
    for (let i = 2; i < ls.length; i++) ls[i] = ls[i].replace(/^\{"seq":\d+/, `{"seq":${i + 1}`);
    writeLines(ls);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 3, reason: 'broken chain (prev does not match line 2)' });
  });

  it('swapped lines: sequence gap at the first; renumbered too: broken chain', () => {
    const ls = lines();
    [ls[1], ls[2]] = [ls[2], ls[1]];
    writeLines(ls);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 2, reason: 'sequence gap (expected 2, found 3)' });
    ls[1] = ls[1].replace('{"seq":3', '{"seq":2');
    ls[2] = ls[2].replace('{"seq":2', '{"seq":3');
    writeLines(ls);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 2, reason: 'broken chain (prev does not match line 1)' });
  });

  it('a line moved back: sequence out of order', () => {
    const ls = lines();
    ls.splice(3, 0, ls[0]);
    writeLines(ls);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 4, reason: 'sequence out of order (expected 4, found 1)' });
  });

  it('a truncated last line, cut mid-record', () => {
    const size = statSync(file).size;
    truncateSync(file, size - 40);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 5, reason: 'truncated last line' });
  });

  it('only the final newline missing is still a truncated last line', () => {
    truncateSync(file, statSync(file).size - 1);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 5, reason: 'truncated last line' });
  });

  it('malformed JSON, a blank line, an unknown field, a re-serialized record, a bad first prev', () => {
    const orig = lines();
    const cases: [string[], number, string][] = [
      [orig.map((l, i) => (i === 3 ? l.slice(0, -1) : l)), 4, 'malformed JSON'],
      [[...orig.slice(0, 2), '', ...orig.slice(2)], 3, 'malformed JSON'],
      [orig.map((l, i) => (i === 1 ? l.replace('{"seq":2,', '{"seq":2,"note":"x",') : l)), 2, 'bad record: unknown field "note"'],
      [orig.map((l, i) => (i === 1 ? l.replace('"outcome":"ok"', '"outcome":"fine"') : l)), 2, 'bad record: outcome must be "ok", "denied" or "failed"'],
      [orig.map((l, i) => (i === 2 ? l.replace(',"time":', ', "time":') : l)), 3, 'not in canonical form (re-serialized or edited by hand)'],
      [orig.map((l, i) => (i === 2 ? JSON.stringify(Object.fromEntries(Object.entries(parse(l)).reverse())) : l)), 3, 'not in canonical form (re-serialized or edited by hand)'],
      [rechain(orig.map((l, i) => (i === 0 ? l.replace(ZERO_HASH, '1'.repeat(64)) : l)), 2).map((l, i) => (i === 0 ? seal(parse(l)) : l)), 1, "broken chain (the first record's prev must be 64 zeros)"],
    ];
    for (const [ls, line, reason] of cases) {
      writeLines(ls);
      expect([reason, verifyOpLog(file)]).toEqual([reason, { ok: false, line, reason }]);
    }
  });

  it('without a key, a forged line with a recomputed SHA-256 (or a full rewrite) verifies: that is what the key is for', () => {
    const ls = lines();
    const forged = { ...parse(ls[4]), seq: 6, actor: 'mallory', action: 'user.add', prev: parse(ls[4]).hash };
    writeLines([...ls, seal(forged)]);
    expect(verifyOpLog(file)).toMatchObject({ ok: true, records: 6 });
    // Rewriting history from line 2 on, every hash recomputed: undetectable from the file alone.
    const rewritten = rechain(ls.map((l, i) => (i === 1 ? l.replace('"actor":"op2"', '"actor":"someone-else"') : l)), 2);
    writeLines(rewritten);
    expect(verifyOpLog(file)).toMatchObject({ ok: true, records: 5 });
  });
});

describe('with a key, forgeries are found', () => {
  beforeEach(() => { fill(5, KEY); });

  it('an appended line with a recomputed SHA-256', () => {
    const ls = lines();
    const forged = { ...parse(ls[4]), seq: 6, actor: 'mallory', action: 'user.add', prev: parse(ls[4]).hash };
    writeLines([...ls, seal(forged)]);
    expect(verifyOpLog(file, { key: KEY })).toEqual({ ok: false, line: 6, reason: 'hash mismatch (plain SHA-256, not the HMAC of this key: written without the key)' });
  });

  it('an appended line with an HMAC under another key', () => {
    const ls = lines();
    writeLines([...ls, seal({ ...parse(ls[4]), seq: 6, prev: parse(ls[4]).hash }, OTHER_KEY)]);
    expect(verifyOpLog(file, { key: KEY })).toEqual({ ok: false, line: 6, reason: 'hash mismatch' });
  });

  it('a full rewrite from line 2 with recomputed SHA-256 hashes', () => {
    writeLines(rechain(lines().map((l, i) => (i === 1 ? l.replace('"actor":"op2"', '"actor":"someone-else"') : l)), 2));
    expect(verifyOpLog(file, { key: KEY })).toMatchObject({ ok: false, line: 2 });
    // The same rewrite done with the key verifies: the key is the whole secret.
    writeLines(rechain(lines(), 2, KEY));
    expect(verifyOpLog(file, { key: KEY })).toMatchObject({ ok: true, records: 5 });
  });
});

describe('open', () => {
  it('reopening continues the chain', () => {
    const first = fill(2);
    const again = OpLog.open(file);
    expect([again.length, again.head]).toEqual([2, first.head]);
    const r = again.append(entry(3));
    expect(r).toMatchObject({ seq: 3, prev: first.head });
    expect(verifyOpLog(file)).toEqual({ ok: true, records: 3, head: r.hash });
    // and with a key
    rmSync(file);
    fill(2, KEY);
    OpLog.open(file, { key: KEY }).append(entry(3));
    expect(verifyOpLog(file, { key: KEY })).toMatchObject({ ok: true, records: 3 });
  });

  it('a bad last line throws, naming the file and line, and nothing is written', () => {
    fill(3);
    const good = readFileSync(file, 'utf8');
    const cases: [string, RegExp][] = [
      [good + '{"seq":4,"garbage\n', /:4: malformed JSON/],
      [good.slice(0, -1), /:3: truncated last line/],
      [good.slice(0, -30), /:3: truncated last line/],
      [good.replace('"actor":"op3"', '"actor":"op0"'), /:3: hash mismatch/],
      [good + '\n', /:4: malformed JSON/],
    ];
    for (const [text, message] of cases) {
      writeFileSync(file, text);
      expect(() => OpLog.open(file)).toThrow(OpLogError);
      expect(() => OpLog.open(file)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${message.source}`));
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('a keyed log opened without its key (or a plain one opened with a key) is refused', () => {
    fill(2, KEY);
    expect(() => OpLog.open(file)).toThrow(/:2: hash mismatch \(a wrong key/);
    expect(() => OpLog.open(file, { key: OTHER_KEY })).toThrow(/:2: hash mismatch/);
    rmSync(file);
    fill(2);
    expect(() => OpLog.open(file, { key: KEY })).toThrow(/:2: hash mismatch \(plain SHA-256/);
  });

  it('two writers taking turns keep one chain', () => {
    const a = OpLog.open(file), b = OpLog.open(file);
    a.append(entry(1));
    b.append(entry(2));
    a.append(entry(3));
    b.append(entry(4));
    expect(lines().map((l) => [parse(l).seq, parse(l).actor])).toEqual([[1, 'op1'], [2, 'op2'], [3, 'op3'], [4, 'op4']]);
    expect(verifyOpLog(file)).toMatchObject({ ok: true, records: 4 });
  });

  it('a log replaced, shortened or rewritten since it was opened is not silently restarted', () => {
    const log = fill(3);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.split('\n').slice(0, 2).join('\n') + '\n');
    expect(() => log.append(entry(4))).toThrow(/shrank since it was opened \(3 records then\)/);
    writeFileSync(file, '');
    expect(() => log.append(entry(4))).toThrow(/shrank since it was opened/);
    expect(readFileSync(file, 'utf8')).toBe('');
    // Another valid, longer chain written over it in place.
    writeFileSync(file, text);
    const other = join(dir, 'other.jsonl');
    const o = OpLog.open(other);
    for (let i = 1; i <= 5; i++) o.append({ ...entry(i), actor: 'other' });
    writeFileSync(file, readFileSync(other));
    expect(() => log.append(entry(4))).toThrow(/rewritten since it was opened \(record 3 is no longer where it was\)/);
    // A new file moved into its place.
    renameSync(other, file);
    expect(() => log.append(entry(4))).toThrow(/replaced since it was opened/);
    expect(verifyOpLog(file)).toMatchObject({ ok: true, records: 5 });
  });

  it('refuses to write through a symbolic link, or to a directory', () => {
    writeFileSync(join(dir, 'real.jsonl'), '');
    symlinkSync(join(dir, 'real.jsonl'), file);
    expect(() => OpLog.open(file)).toThrow(`${file}: cannot open the operation log: is a symbolic link; refusing to write through it`);
    expect(() => OpLog.open(dir)).toThrow(OpLogError);
  });
});

describe('what a record may hold', () => {
  it('never a secret: secret-looking detail keys are stored as "***", secret query values too', () => {
    const log = OpLog.open(file);
    const r = log.append({
      actor: 'alice', role: 'admin', action: 'device.rotate', outcome: 'ok', target: '/api/devices?name=cam&access_token=TOKEN-VALUE-1',
      detail: { password: 'hunter2-VALUE', apiKey: 'KEY-VALUE-2', Cookie: 'moat_sid=COOKIE-VALUE', sessionId: 'SESSION-VALUE', clientSecret: 'SECRET-VALUE', pinKey: 424242, name: 'cam', count: 3, enabled: false },
    });
    expect(r.detail).toEqual({ Cookie: '***', apiKey: '***', clientSecret: '***', count: 3, enabled: false, name: 'cam', password: '***', pinKey: '***', sessionId: '***' });
    expect(r.target).toBe('/api/devices?name=cam&access_token=***');
    const raw = readFileSync(file, 'utf8');
    for (const secret of ['hunter2', 'KEY-VALUE', 'COOKIE-VALUE', 'SESSION-VALUE', 'SECRET-VALUE', '424242', 'TOKEN-VALUE']) expect(raw).not.toContain(secret);
    expect(verifyOpLog(file).ok).toBe(true);
  });

  it('control and invisible characters never make a second line: escaped, visibly', () => {
    const log = OpLog.open(file);
    const r = log.append({
      actor: 'mallory\n{"seq":99,"actor":"root"}', role: 'admin\r', action: 'x\u2028y', target: 'a\u0085b\u2029c',
      outcome: 'denied', detail: { note: '\u001b[31mred\u202eevil', path: 'C:\\x0a' }, client: '203.0.113.9\n\u0000',
    });
    const raw = readFileSync(file, 'utf8');
    expect(raw.endsWith('\n')).toBe(true);
    // What any line splitter (JavaScript's, Python's splitlines) would cut at appears once: the end.
    expect(raw.slice(0, -1)).not.toMatch(/[\n\r\u000b\u000c\u001c-\u001e\u0085\u2028\u2029]/);
    expect(raw).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(r.actor).toBe('mallory\\x0a{"seq":99,"actor":"root"}');
    expect(r.role).toBe('admin\\x0d');
    expect(r.action).toBe('x\\u{2028}y');
    expect(r.target).toBe('a\\x85b\\u{2029}c');
    // A literal backslash is doubled, so it can never pass for an escape.
    expect(r.detail).toEqual({ note: '\\x1b[31mred\\u{202e}evil', path: 'C:\\\\x0a' });
    expect(r.client).toBe('203.0.113.9\\x0a\\x00');
    expect(lines().map(parse)).toEqual([r]);
    expect(verifyOpLog(file)).toMatchObject({ ok: true, records: 1 });
  });

  it('a hand-written record with a raw control character (JSON-escaped) is refused by verify', () => {
    writeLines([seal({ seq: 1, time: new Date(T0).toISOString(), actor: 'a\u001bb', role: null, action: 'x', outcome: 'ok', prev: ZERO_HASH })]);
    expect(verifyOpLog(file)).toEqual({ ok: false, line: 1, reason: 'bad record: actor has control or invisible characters' });
  });

  it(`text is capped at ${MAX_TEXT} characters, without splitting an escape or a surrogate pair`, () => {
    const log = OpLog.open(file);
    const a = log.append({ actor: 'x'.repeat(1_000_000), role: null, action: 'a', outcome: 'ok', target: '\n'.repeat(300), detail: { emoji: '😀'.repeat(300) } });
    expect(a.actor).toBe('x'.repeat(MAX_TEXT - 1) + '…');
    expect(a.target).toMatch(/^(\\x0a)+…$/);
    expect(a.target!.length).toBeLessThanOrEqual(MAX_TEXT);
    expect(a.target!.length).toBeGreaterThan(MAX_TEXT - 5);
    const emoji = a.detail!.emoji as string;
    expect(emoji).toMatch(/^(😀)+…$/u);
    expect(emoji.length).toBeLessThanOrEqual(MAX_TEXT);
    expect(verifyOpLog(file).ok).toBe(true);
  });

  it('a caller mistake throws and writes nothing', () => {
    const log = OpLog.open(file);
    const base: OpEntry = { actor: 'a', role: 'admin', action: 'x', outcome: 'ok' };
    const bad: [unknown, RegExp][] = [
      [{ ...base, outcome: 'maybe' }, /outcome "maybe" — must be "ok", "denied" or "failed"/],
      [{ ...base, actor: '' }, /actor must not be empty/],
      [{ ...base, role: '' }, /role must not be empty/],
      [{ ...base, action: 7 }, /action must be a string/],
      [{ ...base, target: 7 }, /target must be a string/],
      [{ ...base, detail: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])) }, /detail has 17 entries — at most 16/],
      [{ ...base, detail: { '1st': 1 } }, /detail key "1st"/],
      [{ ...base, detail: JSON.parse('{"__proto__": 1}') }, /detail key "__proto__"/],
      [{ ...base, detail: { n: Number.NaN } }, /detail.n must be a string, a finite number or a boolean/],
      [{ ...base, detail: { o: { nested: true } } }, /detail.o must be/],
      [{ ...base, detail: ['x'] }, /detail must be an object/],
    ];
    for (const [e, message] of bad) expect(() => log.append(e as OpEntry)).toThrow(message);
    expect(statSync(file).size).toBe(0);
    expect(log.length).toBe(0);
  });
});

describe('records', () => {
  it('the last 100 by default; from/limit pages; limits are checked', () => {
    const log = fill(120);
    const last = log.records();
    expect(last.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 21 + i));
    expect(last[99]).toEqual(parse(lines()[119]));
    expect(log.records(undefined, 3).map((r) => r.seq)).toEqual([118, 119, 120]);
    expect(log.records(1, 2).map((r) => r.seq)).toEqual([1, 2]);
    expect(log.records(115).map((r) => r.seq)).toEqual([115, 116, 117, 118, 119, 120]);
    expect(log.records(121)).toEqual([]);
    expect(log.records(undefined, 1000)).toHaveLength(120);
    expect(() => log.records(undefined, 1001)).toThrow(/limit 1001 — must be a whole number from 1 to 1000/);
    expect(() => log.records(0)).toThrow(/from 0/);
  });

  it('an empty log has none; a bad line in what is read is named', () => {
    const log = OpLog.open(file);
    expect(log.records()).toEqual([]);
    fill(5);
    const ls = lines();
    ls[3] = '{"seq":4';
    writeLines(ls);
    expect(() => log.records()).toThrow(`${file}:4: malformed JSON`);
    expect(() => log.records(2, 5)).toThrow(`${file}:4: malformed JSON`);
    expect(log.records(1, 3)).toHaveLength(3);
    expect(log.records(undefined, 1)).toEqual([parse(ls[4])]);
    truncateSync(file, statSync(file).size - 1);
    expect(() => readOpLog(file, { limit: 1 })).toThrow(`${file}:5: truncated last line`);
  });
});

describe('a big log', () => {
  it('20,000 records verify in chunks; the tail is read without the rest; tampering near the end is found', () => {
    // Written by the test's own implementation of the format: fast, and a second check of it.
    const parts: string[] = [];
    let prev = ZERO_HASH;
    for (let seq = 1; seq <= 20_000; seq++) {
      const r = { seq, time: new Date(T0 + seq * 1000).toISOString(), actor: `op${seq % 7}`, role: 'admin', action: 'config.set', target: `web.limits.k${seq}`, outcome: 'ok', detail: { value: seq }, prev };
      const line = seal(r, KEY);
      prev = parse(line).hash as string;
      parts.push(line + '\n');
    }
    writeFileSync(file, parts.join(''));
    expect(statSync(file).size).toBeGreaterThan(5_000_000);
    expect(verifyOpLog(file, { key: KEY })).toEqual({ ok: true, records: 20_000, head: prev });
    expect(readOpLog(file, { limit: 3 }).map((r) => r.seq)).toEqual([19_998, 19_999, 20_000]);
    expect(readOpLog(file, { from: 19_999 }).map((r) => r.seq)).toEqual([19_999, 20_000]);
    const log = OpLog.open(file, { key: KEY });
    expect(log.append(entry(1)).seq).toBe(20_001);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"target":"web.limits.k19999"', '"target":"web.limits.kXXXXX"'));
    expect(verifyOpLog(file, { key: KEY })).toEqual({ ok: false, line: 19_999, reason: 'hash mismatch' });
  }, 60_000);
});

describe('moat oplog', () => {
  function moat(...args: string[]) {
    const r = spawnSync(process.execPath, [MOAT, ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const keyFile = (mode = 0o600) => {
    const k = join(dir, `oplog-${mode.toString(8)}.key`);
    writeFileSync(k, KEY.toString() + '\n', { mode });
    return k;
  };

  it('verify: "FILE: ok, N records, head PREFIX" exit 0; a bad line "FILE:LINE: reason" exit 1', () => {
    const log = fill(3);
    let r = moat('oplog', 'verify', file);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${file}: ok, 3 records, head ${log.head.slice(0, 16)}\n`, '']);
    const ls = lines();
    ls[1] = ls[1].replace('"op2"', '"op7"');
    writeLines(ls);
    r = moat('oplog', 'verify', file);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `${file}:2: hash mismatch\n`]);
    ls.splice(1, 1);
    writeLines(ls);
    r = moat('oplog', 'verify', file);
    expect([r.code, r.stderr]).toEqual([1, `${file}:2: sequence gap (expected 2, found 3)\n`]);
  }, 60_000);

  it('verify --key-file: the key file is checked; a keyed log without its key gets a hint', () => {
    const log = fill(2, KEY);
    let r = moat('oplog', 'verify', file, '--key-file', keyFile());
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${file}: ok, 2 records, head ${log.head.slice(0, 16)}\n`, '']);
    r = moat('oplog', 'verify', file);
    expect([r.code, r.stderr]).toEqual([1, `${file}:1: hash mismatch (if the log was written with a key, give it with --key-file)\n`]);
    const loose = keyFile(0o644);
    r = moat('oplog', 'verify', file, '--key-file', loose);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `moat oplog verify: ${loose}: the key file is open to group or others (mode 644); chmod 600 it\n`]);
    r = moat('oplog', 'verify', join(dir, 'absent.jsonl'));
    expect([r.code, r.stderr]).toEqual([1, `moat oplog verify: ${join(dir, 'absent.jsonl')}: cannot read the operation log: no such file\n`]);
  }, 60_000);

  it('show: a table of the last N records; --json the records themselves', () => {
    const log = OpLog.open(file, { now: clock() });
    for (let i = 1; i <= 4; i++) log.append(entry(i));
    log.append({ actor: 'eve', role: null, action: 'login', outcome: 'denied', detail: { password: 'x', why: 'bad password' } });
    let r = moat('oplog', 'show', file, '--last', '2');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'SEQ  TIME                      ACTOR  ROLE      ACTION       TARGET  OUTCOME  CLIENT     DETAIL',
      '4    2026-01-01T12:00:03.000Z  op4    operator  user.revoke  user4   ok       192.0.2.7  reason="case 4"',
      '5    2026-01-01T12:00:04.000Z  eve    -         login        -       denied   -          password=*** why="bad password"',
      '',
    ]);
    r = moat('oplog', 'show', file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(lines().map(parse));
    expect(moat('oplog', 'show', file).stdout.split('\n')).toHaveLength(5 + 2);
    writeFileSync(file, '');
    expect(moat('oplog', 'show', file).stdout).toBe(`no records in ${file}\n`);
  }, 60_000);

  it('usage errors: exit 2 with one line; --help exit 0; moat help lists oplog', () => {
    for (const [args, line] of [
      [[], 'moat oplog: missing subcommand: verify or show (moat oplog --help)'],
      [['frob'], 'moat oplog: unknown subcommand "frob" (verify, show)'],
      [['verify'], 'moat oplog: verify: missing FILE'],
      [['verify', 'a', 'b'], 'moat oplog: verify: one FILE at a time'],
      [['verify', 'a', '--json'], 'moat oplog: verify: unknown option "--json" (moat oplog --help)'],
      [['verify', 'a', '--key-file'], 'moat oplog: verify: --key-file needs a value'],
      [['show', 'a', '--last', '0'], 'moat oplog: show: --last "0" — must be a whole number from 1 to 1000'],
      [['show', 'a', '--last', 'ten'], 'moat oplog: show: --last "ten" — must be a whole number from 1 to 1000'],
      [['show', 'a', '--key-file', 'k'], 'moat oplog: show: unknown option "--key-file" (moat oplog --help)'],
    ] as [string[], string][]) {
      const r = moat('oplog', ...args);
      expect([args, r.code, r.stdout, r.stderr]).toEqual([args, 2, '', line + '\n']);
    }
    for (const args of [['--help'], ['verify', '--help'], ['show', 'x', '-h']]) {
      const r = moat('oplog', ...args);
      expect([args, r.code]).toEqual([args, 0]);
      expect(r.stdout).toMatch(/^usage: moat oplog verify FILE \[--key-file F\]\n {7}moat oplog show FILE \[--last N\] \[--json\]\n/);
    }
    expect(moat('help').stdout).toMatch(/\n {2}oplog {5}check the operator operation log's hash chain/);
  }, 120_000);
});
