// Talking to the dashboard API: JSON in and out, the session's CSRF token (kept only in memory,
// from the login or session answer) on every POST, and one place that notices an ended session.
export class ApiError extends Error {
  constructor(readonly status: number, readonly reason: string) { super(`${status} ${reason}`); }
}

export interface Session { user: string; role: 'viewer' | 'operator' | 'admin'; csrf: string }

export const API = '/_moat/api/';

export class Api {
  csrf = '';
  /** Called once when a request comes back 401: the session ended (idle, revoked, logged out elsewhere). */
  onExpired: () => void = () => {};

  async get<T>(path: string): Promise<T> {
    return this.handle<T>(await fetch(API + path, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' }));
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.handle<T>(await fetch(API + path, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': this.csrf },
      body: JSON.stringify(body),
    }));
  }

  private async handle<T>(res: Response): Promise<T> {
    let data: unknown = null;
    try { data = await res.json(); } catch { /* a body that is not JSON */ }
    if (res.status === 401) this.onExpired();
    if (!res.ok) throw new ApiError(res.status, (data as { reason?: string } | null)?.reason ?? res.statusText);
    return data as T;
  }

  async session(): Promise<Session | null> {
    const res = await fetch('/auth/session', { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) return null;
    const s = (await res.json()) as Session;
    this.csrf = s.csrf ?? '';
    return s;
  }

  async login(user: string, password: string): Promise<Session> {
    const res = await fetch('/auth/login', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }),
    });
    const data = (await res.json().catch(() => null)) as (Session & { reason?: string }) | null;
    if (!res.ok || !data) throw new ApiError(res.status, data?.reason ?? res.statusText);
    this.csrf = data.csrf;
    return data;
  }

  async logout(): Promise<void> {
    await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin', cache: 'no-store', headers: { 'X-CSRF-Token': this.csrf } });
    this.csrf = '';
  }
}

/** Words for an API failure a person can act on. */
export function explain(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return 'Your role does not allow this.';
    if (e.status === 401) return 'Your session has ended; log in again.';
    return `The server refused: ${e.reason} (${e.status}).`;
  }
  return `Request failed: ${(e as Error)?.message ?? String(e)}`;
}
