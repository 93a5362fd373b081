// What a page gets to draw itself: the API, who is logged in and what is configured, its own part
// of <main>, and a way to stop its timers and streams when the user goes elsewhere.
import type { Api } from './api.ts';
import type { Role } from '../../auth/roles.ts';
import { h } from './dom.ts';

export interface Me { user: string; role: Role; audit: boolean; oplog: boolean; credentials: boolean; tls: boolean }

export interface PageCtx {
  api: Api;
  me: Me;
  root: HTMLElement;
  /** Registers cleanup for when the page is left. */
  onLeave(fn: () => void): void;
  /** True once the page was left (late answers are dropped). */
  readonly left: boolean;
}

export interface Page {
  id: string;
  title: string;
  need: Role;
  render(ctx: PageCtx): void | Promise<void>;
}

/** A polite live region for results of actions ("Unbanned 127.0.0.2"). */
export function statusLine(id: string): HTMLElement {
  return h('p', { id, class: 'status', role: 'status', 'aria-live': 'polite' });
}

/** A message block for errors that need attention. */
export function alertLine(id: string): HTMLElement {
  return h('p', { id, class: 'alert', role: 'alert' });
}
