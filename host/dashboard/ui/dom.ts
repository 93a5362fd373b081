// Building the page from data without ever parsing data as markup: elements are created one by one
// and every string becomes a text node, so a hostile user name or request path can only ever show
// up as the characters it is.
export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

// Event handler attributes and URLs that run script are never set from here.
const FORBIDDEN = /^on|^(srcdoc|style)$/i;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (FORBIDDEN.test(k)) throw new Error(`attribute ${k} is not allowed`);
    if ((k === 'href' || k === 'src' || k === 'action') && !/^(\/|#|\.)/.test(String(v))) throw new Error(`${k} must be a local URL`);
    el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.firstChild.remove();
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
}

/**
 * A data table: caption, column headers with scope, and a scrolling wrapper that keyboard users can
 * focus (a table still too wide scrolls by itself, not the page); narrow screens stack its cells.
 */
export function table(caption: string, headers: string[], rows: Child[][], opts: { id?: string; empty?: string; more?: Child[] } = {}): HTMLElement {
  const body = h('tbody');
  rows.forEach((r, n) => {
    // data-label names the column when a narrow screen stacks the cells (style.css).
    body.append(h('tr', {}, ...r.map((c, i) => (i === 0 ? h('th', { scope: 'row', 'data-label': headers[i] }, c) : h('td', { 'data-label': headers[i] }, c)))));
    // A full-width row under its row: room for long details on a narrow screen.
    const more = opts.more?.[n];
    if (more) body.append(h('tr', { class: 'more' }, h('td', { colspan: headers.length }, more)));
  });
  if (rows.length === 0) body.append(h('tr', {}, h('td', { colspan: headers.length }, opts.empty ?? 'Nothing to show.')));
  const t = h('table', { id: opts.id, class: 'stack' }, h('caption', {}, caption), h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))), body);
  return h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': caption }, t);
}

export function time(ms: number | string): HTMLTimeElement {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return h('time', {}, String(ms));
  const iso = d.toISOString();
  return h('time', { datetime: iso }, iso.slice(0, 19).replace('T', ' ') + 'Z');
}

export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr} h ${m % 60} min`;
  return `${Math.floor(hr / 24)} days ${hr % 24} h`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A definition list from label/value pairs. */
export function facts(pairs: [string, Child][]): HTMLDListElement {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of pairs) dl.append(h('div', {}, h('dt', {}, k), h('dd', {}, v)));
  return dl;
}
