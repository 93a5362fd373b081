// Accounts and devices from the users file (admin): revoke either, give a device a new token. A
// revocation takes effect on that credential's next request; a new token is shown exactly once.
import { h, clear, table } from '../dom.ts';
import { explain } from '../api.ts';
import { alertLine, statusLine, type Page, type PageCtx } from '../page.ts';

interface Account { name: string; kind: 'user' | 'device'; role: string; revoked: boolean; generation: number }

export const credentialsPage: Page = {
  id: 'credentials', title: 'Credentials', need: 'admin',
  async render(ctx: PageCtx) {
    if (!ctx.me.credentials) { ctx.root.append(h('p', { id: 'not-configured' }, 'No users file is configured on this server.')); return; }
    const status = statusLine('credentials-status');
    const err = alertLine('credentials-error');
    const secret = h('div', { id: 'new-token' });
    const holder = h('div', { id: 'credentials-table' });
    ctx.root.append(status, err, secret, holder);

    const act = async (change: 'revoke' | 'rotate', name: string) => {
      err.textContent = '';
      clear(secret);
      try {
        const r = await ctx.api.post<{ token?: string }>(`credentials/${change}`, { name });
        if (change === 'rotate' && r.token) {
          secret.append(h('p', {}, `New token for ${name}, shown only now — copy it to the device:`), h('pre', { class: 'token' }, h('code', {}, r.token)));
          status.textContent = `Rotated the token of ${name}.`;
        } else status.textContent = `Revoked ${name}.`;
      } catch (e) {
        err.textContent = explain(e);
      }
      await load();
      heading()?.focus();
    };
    const heading = () => document.getElementById('page-title');

    const actions = (a: Account): HTMLElement | string => {
      if (a.revoked) return 'none';
      const box = h('div', { class: 'actions' });
      const revoke = h('button', { type: 'button', class: 'revoke', 'data-name': a.name }, `Revoke ${a.name}`);
      // Two steps instead of a dialog: a keyboard user confirms where the focus already is.
      revoke.addEventListener('click', () => {
        const sure = h('button', { type: 'button', class: 'confirm danger', 'data-name': a.name }, `Confirm: revoke ${a.name} for good`);
        sure.addEventListener('click', () => { void act('revoke', a.name); });
        revoke.replaceWith(sure);
        sure.focus();
      });
      box.append(revoke);
      if (a.kind === 'device') {
        const rotate = h('button', { type: 'button', class: 'rotate', 'data-name': a.name }, `New token for ${a.name}`);
        rotate.addEventListener('click', () => { void act('rotate', a.name); });
        box.append(rotate);
      }
      return box;
    };

    const load = async () => {
      try {
        const list = (await ctx.api.get<{ accounts: Account[] }>('credentials')).accounts;
        if (ctx.left) return;
        clear(holder);
        holder.append(table('Users and devices', ['Name', 'Kind', 'Role', 'State', 'Changes', 'Actions'],
          list.map((a) => [a.name, a.kind, a.role, a.revoked ? 'revoked' : 'active', String(a.generation), actions(a)]),
          { id: 'credentials', empty: 'No accounts.' }));
      } catch (e) {
        if (!ctx.left) err.textContent = explain(e);
      }
    };
    await load();
  },
};
