// The dashboard shell: log in (or pick up the session), show the pages the role may use, route by
// the URL fragment, and fall back to the login form whenever the session ends.
import { Api, ApiError, type Session } from './api.ts';
import { h, byId, clear } from './dom.ts';
import { roleAtLeast } from '../../auth/roles.ts';
import type { Me, Page, PageCtx } from './page.ts';
import { overviewPage } from './pages/overview.ts';
import { eventsPage } from './pages/events.ts';
import { clientsPage } from './pages/clients.ts';
import { auditPage } from './pages/audit.ts';
import { credentialsPage } from './pages/credentials.ts';
import { oplogPage } from './pages/oplog.ts';

const PAGES: Page[] = [overviewPage, eventsPage, clientsPage, auditPage, credentialsPage, oplogPage];

const api = new Api();
let me: Me | null = null;
let leave: (() => void) | null = null;

function allowed(): Page[] {
  return me ? PAGES.filter((p) => roleAtLeast(me!.role, p.need)) : [];
}

function leavePage(): void {
  leave?.();
  leave = null;
}

function showLogin(message = ''): void {
  leavePage();
  me = null;
  api.csrf = '';
  byId('who').hidden = true;
  byId('nav').hidden = true;
  clear(byId('nav-list'));
  clear(byId('view'));
  byId('login').hidden = false;
  byId('login-message').textContent = message;
  document.title = 'Log in — Moat dashboard';
  byId<HTMLInputElement>('login-password').value = '';
  byId('login-user').focus();
}

async function enter(s: Session): Promise<void> {
  const f = await api.get<Omit<Me, 'user' | 'role'>>('features');
  me = { user: s.user, role: s.role, audit: f.audit, oplog: f.oplog, credentials: f.credentials, tls: f.tls };
  byId('login').hidden = true;
  byId('who-name').textContent = `${s.user} (${s.role})`;
  byId('who').hidden = false;
  const list = byId('nav-list');
  clear(list);
  for (const p of allowed()) list.append(h('li', {}, h('a', { href: `#/${p.id}`, 'data-page': p.id }, p.title)));
  byId('nav').hidden = false;
  route(false);
}

function route(focus = true): void {
  if (!me) return;
  const pages = allowed();
  const want = location.hash.replace(/^#\//, '');
  const page = pages.find((p) => p.id === want) ?? pages[0];
  leavePage();
  const view = byId('view');
  clear(view);
  for (const a of Array.from(byId('nav-list').querySelectorAll('a'))) {
    if (a.dataset.page === page.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${page.title} — Moat dashboard`;
  const title = h('h1', { id: 'page-title', tabindex: -1 }, page.title);
  const root = h('div', { class: 'page', id: `page-${page.id}` });
  view.append(title, root);
  const cleanups: (() => void)[] = [];
  const ctx: PageCtx = { api, me, root, onLeave: (fn) => cleanups.push(fn), left: false };
  leave = () => { (ctx as { left: boolean }).left = true; for (const fn of cleanups) fn(); };
  if (focus) title.focus();
  void Promise.resolve(page.render(ctx)).catch((e: unknown) => {
    if (!ctx.left) root.append(h('p', { role: 'alert' }, `This page failed: ${(e as Error)?.message ?? String(e)}`));
  });
}

function loginProblem(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return 'Wrong user name or password.';
    if (e.status === 429) return 'Too many failed attempts; wait a while and try again.';
    if (e.status === 503) return 'The server has too many sessions open; try again later.';
    return `Login refused: ${e.reason} (${e.status}).`;
  }
  return `Login failed: ${(e as Error)?.message ?? String(e)}`;
}

function boot(): void {
  api.onExpired = () => { if (me) showLogin('Your session has ended. Please log in again.'); };
  byId('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const user = byId<HTMLInputElement>('login-user').value, password = byId<HTMLInputElement>('login-password').value;
    byId('login-message').textContent = '';
    try {
      await enter(await api.login(user, password));
    } catch (x) {
      byId('login-message').textContent = loginProblem(x);
    }
  });
  byId('logout').addEventListener('click', async () => {
    try { await api.logout(); } finally { showLogin('You are logged out.'); }
  });
  byId('skip').addEventListener('click', (e) => { e.preventDefault(); byId('main').focus(); });
  window.addEventListener('hashchange', () => route());
  void api.session().then((s) => (s ? enter(s) : showLogin())).catch(() => showLogin());
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
