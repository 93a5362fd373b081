// SQL and NoSQL injection markers: a database error signature after a quote; a boolean pair
// (always-true vs always-false) answered differently; operator keys ($ne, $gt, $where) changing
// the answer. Detection only: nothing here reads data, sleeps or writes.
import type { Finding, Probe, ProbeContext, RouteTarget } from '../types.ts';
import type { HttpResult } from '../http.ts';
import { authFields, around, bodyOf, dryRunRoutes, everyParam, pick, query, unsafeFields, PARAMS } from './util.ts';
import { hostOf } from '../http.ts';
import { targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';

const DB_ERRORS: [string, RegExp][] = [
  ['mysql', /You have an error in your SQL syntax|mysql_fetch|MySqlException|check the manual that corresponds to your (MySQL|MariaDB)/i],
  ['postgres', /PG::SyntaxError|unterminated quoted string|syntax error at or near|PSQLException/i],
  ['sqlite', /SQLITE_ERROR|SQLite3::|sqlite3\.OperationalError|unrecognized token:/i],
  ['mssql', /Unclosed quotation mark|Microsoft OLE DB|SqlException/i],
  ['oracle', /ORA-\d{5}/],
  ['generic-sql', /SQL syntax|SQLSTATE\[|quoted string not properly terminated/i],
  ['mongodb', /MongoError|MongoServerError|\$where.*not allowed|BSON/],
];

/** A finding when the answer to a quote carries a database error signature, else null. */
function dbError(ctx: ProbeContext, probe: Probe, q: HttpResult, target: string, r: RouteTarget, where: string): Finding | null {
  const body = bodyOf(q.res);
  const sig = DB_ERRORS.find(([, re]) => re.test(body));
  if (!q.res || !sig) return null;
  const m = sig[1].exec(body)![0];
  return ctx.finding(probe, {
    confidence: 'high', target, kind: `db-error-${sig[0]}`, cwe: sig[0] === 'mongodb' ? 943 : 89,
    title: `Injection: a quote in ${where} raises a ${sig[0]} error`,
    expected: 'values bound as query parameters; a quote is data',
    observed: `status ${q.res.status} with the database error "${m}"`,
    evidence: evidence(around(body, m)),
    recommendation: `use parameterised queries in the "${r.route.handler}" handler and answer errors without database messages`,
  });
}

/** The answer with every sent value removed, so a reflection does not look like a difference. */
function shape(res: HttpResult, sent: string[]): string {
  let b = bodyOf(res.res);
  for (const s of sent) for (const form of [s, encodeURIComponent(s)]) b = b.split(form).join('');
  return `${res.res?.status ?? 0}:${b.replace(/\d+/g, '0').length}`;
}

async function booleanPair(ctx: ProbeContext, r: RouteTarget): Promise<{ t: HttpResult; f: HttpResult; f2: HttpResult; sent: string[] } | null> {
  const n = ctx.nonce(3);
  const t = `${n}' OR '1'='1`, f = `${n}' AND '1'='2`, f2 = `${n}' AND '2'='3`;
  const ask = (v: string) => ctx.request({ method: 'GET', target: `${r.path}?${everyParam(v)}`, headers: authFields(ctx, r) });
  const rt = await ask(t), rf = await ask(f), rf2 = await ask(f2);
  return { t: rt, f: rf, f2: rf2, sent: [t, f, f2] };
}

export const injection: Probe = {
  id: 'injection', class: 'injection', cwe: 89, severity: 'high', profiles: ['quick', 'full'],
  title: 'SQL / NoSQL injection markers',
  help: 'A request value reaches a database query as code (error signatures, boolean or operator differences).',
  targets: (ctx) => [...pick(ctx).map((r) => targetName('GET', r.path)), ...dryRunRoutes(ctx).map((r) => targetName(r.unsafe[0], r.path))],
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = await jsonBodies(this, ctx);
    for (const r of pick(ctx)) {
      const target = targetName('GET', r.path);
      const n = ctx.nonce(3);
      const q = await ctx.request({ method: 'GET', target: `${r.path}?${everyParam(`${n}'"`)}`, headers: authFields(ctx, r) });
      const err = dbError(ctx, this, q, target, r, 'a request value');
      if (err) { out.push(err); continue; }
      if (ctx.profile !== 'full') continue;
      const pair = await booleanPair(ctx, r);
      if (pair && pair.t.res && pair.f.res) {
        const st = shape(pair.t, pair.sent), sf = shape(pair.f, pair.sent), sf2 = shape(pair.f2, pair.sent);
        if (st !== sf && sf === sf2) {
          out.push(ctx.finding(this, {
            confidence: 'medium', target, kind: 'boolean-pair',
            title: "Injection: ' OR '1'='1 and ' AND '1'='2 get different answers",
            expected: 'the same answer for both (the values are data)',
            observed: `always-true → ${pair.t.res.status} (${pair.t.res.body.length} bytes), always-false → ${pair.f.res.status} (${pair.f.res.body.length} bytes)`,
            evidence: evidence(`true: ${bodyOf(pair.t.res).slice(0, 200)}\nfalse: ${bodyOf(pair.f.res).slice(0, 200)}`),
            recommendation: `use parameterised queries in the "${r.route.handler}" handler`,
          }));
          continue;
        }
      }
      // NoSQL operators: the same parameter as a plain value and as an operator object.
      const v = ctx.nonce(4);
      const plain = await ctx.request({ method: 'GET', target: `${r.path}?${everyParam(v)}`, headers: authFields(ctx, r) });
      const ops = query(Object.fromEntries(PARAMS.flatMap((p) => [[`${p}[$ne]`, v]]))) + '&' + query({ 'id[$gt]': '', 'q[$where]': '1' });
      const op = await ctx.request({ method: 'GET', target: `${r.path}?${ops}`, headers: authFields(ctx, r) });
      if (plain.res && op.res && shape(plain, [v]) !== shape(op, [v, '$ne', '$gt', '$where']) && op.res.status < 400 && plain.res.status !== op.res.status) {
        out.push(ctx.finding(this, {
          confidence: 'low', target, kind: 'nosql-operator', cwe: 943,
          title: 'NoSQL injection: operator keys ($ne, $gt, $where) change the answer',
          expected: 'operator-shaped parameters refused or treated as plain strings',
          observed: `plain value → ${plain.res.status}, operator keys → ${op.res.status}`,
          evidence: evidence(`plain: ${bodyOf(plain.res).slice(0, 200)}\noperators: ${bodyOf(op.res).slice(0, 200)}`),
          recommendation: `reject objects where the "${r.route.handler}" handler expects a string before building a query`,
        }));
      }
    }
    return out;
  },
};

/** JSON fields a device API commonly takes; each request sets all of them. */
const FIELDS = ['user', 'username', 'name', 'id', 'password', 'q', 'filter'];

/**
 * Dry-run routes take unsafe requests from the audit: JSON bodies with a quote (error
 * signatures) and with operator objects in place of strings ($ne, $gt, $where).
 */
async function jsonBodies(probe: Probe, ctx: ProbeContext): Promise<Finding[]> {
  const out: Finding[] = [];
  const self = `${ctx.http.scheme}://${hostOf(ctx.http)}`;
  for (const r of dryRunRoutes(ctx)) {
    const method = r.unsafe[0], target = targetName(method, r.path), headers = unsafeFields(ctx, r, self);
    const send = (v: unknown) => ctx.request({ method, target: r.path, headers, body: JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, v]))) });
    const n = ctx.nonce(4);
    const quote = await send(`${n}'"`);
    const err = dbError(ctx, probe, quote, target, r, 'a JSON field');
    if (err) { out.push(err); continue; }
    const plain = await send(n);
    for (const [op, v] of [['$ne', { $ne: n }], ['$gt', { $gt: '' }], ['$where', { $where: '1' }]] as const) {
      const got = await send(v);
      if (!plain.res || !got.res || shape(plain, [n]) === shape(got, [n])) continue;
      out.push(ctx.finding(probe, {
        confidence: 'medium', target, kind: 'nosql-operator', cwe: 943,
        title: `NoSQL injection: a ${op} object in a JSON field changes the answer`,
        expected: 'operator objects refused where a string is expected',
        observed: `plain string → ${plain.res.status} (${plain.res.body.length} bytes), {"${op}": …} → ${got.res.status} (${got.res.body.length} bytes)`,
        evidence: evidence(`plain: ${bodyOf(plain.res).slice(0, 160)}\n${op}: ${bodyOf(got.res).slice(0, 160)}`),
        recommendation: `check field types in the "${r.route.handler}" handler (a string, never an object) before building a query`,
      }));
      break;
    }
  }
  return out;
}
