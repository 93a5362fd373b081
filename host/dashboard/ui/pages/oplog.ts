// The operation log (admin): who did what from the dashboard and the command line, newest first.
import { h, table, time } from '../dom.ts';
import { explain } from '../api.ts';
import { alertLine, type Page, type PageCtx } from '../page.ts';

interface OpRecord { seq: number; time: string; actor: string; role: string | null; action: string; target?: string; outcome: string; client?: string; detail?: Record<string, unknown> }

const OUTCOME: Record<string, string> = { ok: '✓', denied: '✖', failed: '!' };

export const oplogPage: Page = {
  id: 'oplog', title: 'Operation log', need: 'admin',
  async render(ctx: PageCtx) {
    if (!ctx.me.oplog) { ctx.root.append(h('p', { id: 'not-configured' }, 'The operation log is not configured on this server.')); return; }
    const err = alertLine('oplog-error');
    ctx.root.append(err);
    try {
      const records = (await ctx.api.get<{ records: OpRecord[] }>('oplog?limit=200')).records;
      if (ctx.left) return;
      ctx.root.append(table('Operations, newest first', ['#', 'Time', 'Actor', 'Role', 'Action', 'Target', 'Outcome', 'Client', 'Detail'],
        records.slice().reverse().map((r) => [String(r.seq), time(r.time), r.actor, r.role ?? '—', r.action, r.target ?? '—',
          h('span', { class: `outcome outcome-${r.outcome}` }, h('span', { 'aria-hidden': 'true' }, `${OUTCOME[r.outcome] ?? '?'} `), r.outcome),
          r.client ?? '—', r.detail ? Object.entries(r.detail).map(([k, v]) => `${k}=${String(v)}`).join(', ') : '—']),
        { id: 'oplog', empty: 'No operations recorded.' }));
    } catch (e) {
      if (!ctx.left) err.textContent = explain(e);
    }
  },
};
