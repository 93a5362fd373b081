// Severity shown as a word and a shape, never as colour alone.
import { h } from './dom.ts';

const ICON: Record<string, string> = { critical: '‼', high: '▲', medium: '◆', low: '▽', info: 'ℹ' };

export function severity(s: string | undefined): HTMLElement {
  const name = s && Object.hasOwn(ICON, s) ? s : 'info';
  return h('span', { class: `sev sev-${name}` }, h('span', { class: 'sev-icon', 'aria-hidden': 'true' }, ICON[name]), ' ', s ?? 'info');
}
