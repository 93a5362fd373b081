// Clients the defense tracks: counters per rule, who is banned or delayed, and lifting a ban.
import { h, clear, duration, table } from '../dom.ts';
import { explain } from '../api.ts';
import { alertLine, statusLine, type Page, type PageCtx } from '../page.ts';

interface Client {
  address: string | null; idleMs: number; offenses: number; banned: boolean; bannedMs: number; delayed: boolean; delayedMs: number;
  counts: { rule: string; current: number; previous: number }[];
}

function state(c: Client): HTMLElement {
  if (c.banned) return h('span', { class: 'state state-banned' }, h('span', { 'aria-hidden': 'true' }, '⛔ '), `banned (${duration(c.bannedMs)} left)`);
  if (c.delayed) return h('span', { class: 'state state-delayed' }, h('span', { 'aria-hidden': 'true' }, '⏳ '), `delayed (${duration(c.delayedMs)} left)`);
  return h('span', { class: 'state' }, h('span', { 'aria-hidden': 'true' }, '✓ '), 'allowed');
}

export const clientsPage: Page = {
  id: 'clients', title: 'Clients', need: 'operator',
  async render(ctx: PageCtx) {
    const status = statusLine('clients-status');
    const err = alertLine('clients-error');
    const holder = h('div', { id: 'clients-table' });
    const refresh = h('button', { type: 'button', id: 'clients-refresh' }, 'Refresh');
    ctx.root.append(h('p', {}, refresh), status, err, holder);

    const load = async () => {
      let list: Client[];
      try {
        list = (await ctx.api.get<{ clients: Client[] }>('clients')).clients;
      } catch (e) {
        if (!ctx.left) err.textContent = explain(e);
        return;
      }
      if (ctx.left) return;
      err.textContent = '';
      clear(holder);
      holder.append(table('Clients tracked by the defense', ['Address', 'State', 'Offenses', 'Idle', 'Counters (this window / last)', 'Action'],
        list.map((c) => {
          let action: HTMLElement | string = '—';
          if ((c.banned || c.delayed) && c.address) {
            const address = c.address;
            const b = h('button', { type: 'button', class: 'unban', 'data-address': address }, `Unban ${address}`);
            b.addEventListener('click', async () => {
              b.disabled = true;
              try {
                const r = await ctx.api.post<{ lifted: boolean }>('clients/unban', { address });
                status.textContent = r.lifted ? `Unbanned ${address}.` : `${address} had nothing to lift.`;
              } catch (e) {
                err.textContent = explain(e);
              }
              await load();
              refresh.focus();
            });
            action = b;
          }
          return [c.address ?? 'unknown', state(c), String(c.offenses), duration(c.idleMs),
            c.counts.filter((n) => n.current || n.previous).map((n) => `${n.rule}: ${n.current} / ${n.previous}`).join('; ') || 'none', action];
        }), { id: 'clients', empty: 'No clients tracked.' }));
    };
    refresh.addEventListener('click', () => { void load(); });
    await load();
    // Redrawing under a keyboard user would throw their focus away.
    const timer = setInterval(() => { if (!holder.contains(document.activeElement)) void load(); }, 5000);
    ctx.onLeave(() => clearInterval(timer));
  },
};
