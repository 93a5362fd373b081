// Security events, live: the recent ones from the API, then each new one as the server sends it
// (server-sent events), filtered in the page by kind, severity and client.
import { h, clear, table, time } from '../dom.ts';
import { severity } from '../severity.ts';
import { explain } from '../api.ts';
import { alertLine, statusLine, type Page, type PageCtx } from '../page.ts';

interface Ev { id: number; time: number; kind: string; reason: string; client: string; severity?: string; rule?: string; remedy?: string; user?: string }

const MAX_ROWS = 500;

function select(id: string, label: string, options: string[]): [HTMLLabelElement, HTMLSelectElement] {
  const s = h('select', { id }, h('option', { value: '' }, 'All'), ...options.map((o) => h('option', { value: o }, o)));
  return [h('label', { for: id }, label), s];
}

export const eventsPage: Page = {
  id: 'events', title: 'Security events', need: 'viewer',
  async render(ctx: PageCtx) {
    const events: Ev[] = [];
    const [kindLabel, kind] = select('f-kind', 'Kind', []);
    const [sevLabel, sev] = select('f-severity', 'Severity', ['critical', 'high', 'medium', 'low', 'info']);
    const client = h('input', { id: 'f-client', type: 'search', autocomplete: 'off', spellcheck: 'false' });
    const live = statusLine('live');
    const err = alertLine('events-error');
    const holder = h('div', { id: 'events-table' });
    const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events' },
      h('div', {}, kindLabel, kind), h('div', {}, sevLabel, sev), h('div', {}, h('label', { for: 'f-client' }, 'Client'), client));
    filters.addEventListener('submit', (e) => e.preventDefault());
    ctx.root.append(filters, live, err, holder);

    const kinds = new Set<string>();
    const draw = () => {
      for (const e of events) if (!kinds.has(e.kind)) {
        kinds.add(e.kind);
        kind.append(h('option', { value: e.kind }, e.kind));
      }
      const k = kind.value, s = sev.value, c = client.value.trim();
      const shown = events.filter((e) => (!k || e.kind === k) && (!s || (e.severity ?? 'info') === s) && (!c || e.client.includes(c)));
      clear(holder);
      holder.append(table(`Security events (${shown.length} shown, newest first)`, ['Time', 'Kind', 'Severity', 'Client', 'Reason', 'Detail'],
        shown.slice().reverse().map((e) => [time(e.time), e.kind, severity(e.severity), e.client || '—', e.reason,
          [e.remedy && `remedy ${e.remedy}`, e.rule, e.user !== undefined && `user ${e.user}`].filter(Boolean).join('; ') || '—']),
        { id: 'events', empty: 'No events.' }));
    };
    for (const el of [kind, sev]) el.addEventListener('change', draw);
    client.addEventListener('input', draw);

    let last = 0;
    try {
      const r = await ctx.api.get<{ events: Ev[]; last: number }>('events?limit=200');
      events.push(...r.events);
      last = r.last;
    } catch (e) {
      err.textContent = explain(e);
      return;
    }
    if (ctx.left) return;
    draw();

    const source = new EventSource(`/_moat/api/events/stream?since=${last}`);
    ctx.onLeave(() => source.close());
    source.addEventListener('open', () => { live.textContent = 'Live: receiving new events.'; live.dataset.state = 'open'; });
    source.addEventListener('error', () => {
      live.dataset.state = 'closed';
      live.textContent = source.readyState === EventSource.CLOSED ? 'Live updates stopped; reload the page to try again.' : 'Live updates interrupted; reconnecting…';
      // A stream refused outright may mean the session ended: asking the API tells the shell.
      if (source.readyState === EventSource.CLOSED) ctx.api.get('features').catch(() => {});
    });
    source.addEventListener('security', (m) => {
      const e = JSON.parse((m as MessageEvent<string>).data) as Ev;
      events.push(e);
      if (events.length > MAX_ROWS) events.shift();
      draw();
    });
  },
};
