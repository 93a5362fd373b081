// Who is calling and whether they may: the caller comes from the session cookie or a device's
// Bearer token, checked against the users file on every request (so `moat user revoke` and a
// password change end live sessions at once); routes declare the least role they need (no caller
// → 401, too little → 403); unsafe methods pass the CSRF checks first. Also the login, logout and
// session handlers. Every refusal is a host security event; the module counts the 401/403 answers
// per client through respond(), so its rules throttle guessing by address while LoginThrottle
// throttles it per account.
import type { AppReply, AppRequest, Caller, Handler } from '../types.ts';
import { errorReply, json } from '../routes.ts';
import type { UserStore, Principal } from './users.ts';
import type { SessionStore, Session } from './sessions.ts';
import type { LoginThrottle } from './throttle.ts';
import { roleAtLeast, type Role } from './roles.ts';
import { cookieName, readCookie, sessionCookie, clearCookie } from './cookies.ts';
import { csrfProblem, isUnsafeMethod } from './csrf.ts';

export interface AccessEvent { kind: 'auth'; reason: string; client: string; severity: string; user?: string }

export interface AccessOptions {
  users: UserStore | null;
  /** null when web.sessions.enable is false: only device tokens authenticate. */
  sessions: SessionStore | null;
  cookie: string;
  sameSite: 'Strict' | 'Lax';
  throttle: LoginThrottle;
  event(e: AccessEvent): void;
  onLogin?(outcome: 'ok' | 'failed' | 'throttled' | 'session_limit'): void;
  now?(): number;
}

const LOGIN_BODY_MAX = 4096;
const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i;
const NO_STORE: [string, string] = ['Cache-Control', 'no-store'];

interface Identity { caller: Caller | null; session: Session | null; token: string | undefined }

/** A request with no Bearer token and no session cookie of ours: nothing to look up, no event to write. */
const ANONYMOUS: Identity = Object.freeze({ caller: null, session: null, token: undefined });

export class Access {
  private readonly now: () => number;
  /** What guard() found for a request, so its handler does not look the session up again. */
  private readonly identities = new WeakMap<AppRequest, Identity>();
  /** The cookie's wire name over plain TCP and over TLS, worked out on first use. */
  private readonly wireNames: [string | undefined, string | undefined] = [undefined, undefined];
  constructor(private readonly o: AccessOptions) {
    this.now = o.now ?? Date.now;
  }

  private cookieOf(req: AppRequest): string {
    const i = req.client.tls ? 1 : 0;
    return (this.wireNames[i] ??= cookieName(this.o.cookie, req.client.tls));
  }

  /** The caller of `req`, or null; a session whose account changed or was revoked is ended here. */
  identify(req: AppRequest): Identity {
    const users = this.o.users;
    const authorization = req.header('authorization');
    const cookies = this.o.sessions ? req.header('cookie') : undefined;
    if (authorization === undefined && cookies === undefined) return ANONYMOUS;
    const bearer = authorization === undefined ? null : BEARER.exec(authorization);
    if (bearer && users) {
      const p = users.device(bearer[1]);
      if (!p) this.event(req, 'bad_device_token', 'medium');
      return { caller: p && { name: p.name, kind: p.kind, role: p.role as Role, via: 'bearer' }, session: null, token: undefined };
    }
    const token = cookies === undefined ? undefined : readCookie(cookies, this.cookieOf(req));
    if (token === undefined) return ANONYMOUS;        // no cookie of ours among the others
    const s = token ? this.o.sessions!.get(token, this.now()) : null;
    if (!s) return { caller: null, session: null, token };
    const p: Principal = { name: s.user, kind: 'user', role: s.role as Role, generation: s.generation };
    if (!users || !users.stillValid(p)) {
      this.o.sessions!.destroy(token);
      this.event(req, 'session_ended_credential_changed', 'medium', s.user);
      return { caller: null, session: null, token };
    }
    return { caller: { name: p.name, kind: 'user', role: p.role, via: 'session' }, session: s, token };
  }

  /** null when `req` may go on to its handler (req.caller set), else the refusal to send. */
  guard(req: AppRequest, role: Role | null): AppReply | null {
    const id = this.identify(req);
    // session() reuses what was found; an anonymous request it can identify again for free.
    if (id !== ANONYMOUS) this.identities.set(req, id);
    req.caller = id.caller;
    const csrf = isUnsafeMethod(req.method) ? csrfProblem(req, { scheme: req.client.tls ? 'https' : 'http', session: id.session }) : null;
    if (csrf) {
      const reason = csrf === 'csrf_token' ? csrf : `csrf_${csrf}`;
      this.event(req, reason, 'high', id.caller?.name);
      return errorReply(403, reason);
    }
    if (!role) return null;
    if (!id.caller) {
      this.event(req, 'unauthenticated', 'low');
      return errorReply(401, 'authentication_required', [['WWW-Authenticate', 'Bearer realm="moat"']]);
    }
    if (!roleAtLeast(id.caller.role, role)) {
      this.event(req, 'role_too_low', 'medium', id.caller.name);
      return errorReply(403, 'forbidden');
    }
    return null;
  }

  handlers(): Record<'login' | 'logout' | 'session', Handler> {
    return { login: (req) => this.login(req), logout: (req) => this.logout(req), session: (req) => this.session(req) };
  }

  private async login(req: AppRequest): Promise<AppReply> {
    const { users, sessions, throttle } = this.o;
    const creds = await readCredentials(req);
    if (!creds) return errorReply(400, 'expected {"user": "...", "password": "..."}');
    if (!users || !sessions) {
      this.event(req, 'login_without_accounts', 'low');
      return errorReply(401, 'invalid_credentials');
    }
    const now = this.now();
    const gate = throttle.check(creds.user, now);
    if (!gate.allowed) {
      this.o.onLogin?.('throttled');
      this.event(req, 'login_throttled', 'medium', accountName(users, creds.user));
      return errorReply(429, 'login_throttled', [['Retry-After', String(gate.retryAfterS)]]);
    }
    const p = await users.login(creds.user, creds.password);
    if (!p) {
      throttle.failure(creds.user, now);
      this.o.onLogin?.('failed');
      this.event(req, 'login_failed', 'medium', accountName(users, creds.user));
      return errorReply(401, 'invalid_credentials');
    }
    throttle.success(creds.user);
    // A fresh token on every login: a session id planted before login is never promoted.
    sessions.destroy(readCookie(req.header('cookie'), this.cookieOf(req)));
    const made = sessions.create(p, this.now());
    if (!made) {
      this.o.onLogin?.('session_limit');
      this.event(req, 'session_limit', 'high', p.name);
      return errorReply(503, 'session_limit', [['Retry-After', '60']]);
    }
    this.o.onLogin?.('ok');
    this.event(req, 'login', 'info', p.name);
    const cookie = sessionCookie(this.cookieOf(req), made.token, { secure: req.client.tls, sameSite: this.o.sameSite });
    return json(200, { user: p.name, role: p.role, csrf: made.session.csrf }, [['Set-Cookie', cookie], NO_STORE]);
  }

  private logout(req: AppRequest): AppReply {
    const token = this.o.sessions ? readCookie(req.header('cookie'), this.cookieOf(req)) : undefined;
    const ended = token !== undefined && this.o.sessions!.destroy(token);
    if (ended) this.event(req, 'logout', 'info', req.caller?.name);
    return json(200, { ended }, [['Set-Cookie', clearCookie(this.cookieOf(req), { secure: req.client.tls, sameSite: this.o.sameSite })], NO_STORE]);
  }

  private session(req: AppRequest): AppReply {
    const id = this.identities.get(req) ?? this.identify(req);
    if (!id.caller) return errorReply(401, 'authentication_required', [['WWW-Authenticate', 'Bearer realm="moat"']]);
    const c = id.caller;
    return json(200, { user: c.name, kind: c.kind, role: c.role, via: c.via, ...(id.session ? { csrf: id.session.csrf } : {}) }, [NO_STORE]);
  }

  private event(req: AppRequest, reason: string, severity: string, user?: string): void {
    this.o.event({ kind: 'auth', reason, client: req.client.address, severity, ...(user !== undefined ? { user } : {}) });
  }
}

/** The name to log for a login attempt: an unknown name may be a password typed into the wrong field. */
function accountName(users: UserStore, name: string): string {
  return users.principal(name) ? name : '(unknown account)';
}

/** {user, password} from a JSON or form body (at most 4 KiB), or null. */
async function readCredentials(req: AppRequest): Promise<{ user: string; password: string } | null> {
  let body: Buffer;
  try {
    body = await req.bytes(LOGIN_BODY_MAX);
  } catch {
    return null;
  }
  const type = (req.header('content-type') ?? '').toLowerCase();
  let user: unknown, password: unknown;
  try {
    if (type.startsWith('application/x-www-form-urlencoded')) {
      const f = new URLSearchParams(body.toString('utf8'));
      user = f.get('user');
      password = f.get('password');
    } else {
      const v = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      user = v?.user;
      password = v?.password;
    }
  } catch {
    return null;
  }
  if (typeof user !== 'string' || typeof password !== 'string' || user.length > 64 || password.length > 1024) return null;
  return { user, password };
}
