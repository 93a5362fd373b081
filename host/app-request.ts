// The AppRequest a handler receives: head fields at once, body bytes as the module reports them.
// Body chunks queue here only up to the module's body limit, which already bounded them.
import type { AppRequest, Caller } from './types.ts';
import type { HttpRequest } from './request.ts';

type Waiter = { resolve: (r: IteratorResult<Buffer>) => void; reject: (e: Error) => void };

export class IncomingRequest implements AppRequest {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  readonly version: '1.0' | '1.1';
  readonly headers: [string, string][];
  trailers: [string, string][] = [];
  readonly client: { address: string; tls: boolean };
  caller: Caller | null = null;
  audit = false;
  /** performance.now() by which the first byte had reached the host (host/static.ts Received). */
  receivedBy: number | undefined = undefined;
  private chunks: Buffer[] = [];
  private ended = false;
  private failure: Error | null = null;
  private waiter: Waiter | null = null;
  private consumed = false;

  constructor(head: Omit<HttpRequest, 'body'>, client: { address: string; tls: boolean }) {
    this.method = head.method;
    this.target = head.target;
    this.version = head.version;
    this.headers = head.headers;
    this.client = client;
    const originForm = head.target.startsWith('/') ? head.target : pathOfAbsolute(head.target);
    const q = originForm.indexOf('?');
    this.path = q < 0 ? originForm : originForm.slice(0, q);
    this.query = q < 0 ? '' : originForm.slice(q + 1);
  }

  header(name: string): string | undefined {
    const n = name.toLowerCase();
    // Lengths first: most lookups (cookie, authorization, if-none-match…) find no such field.
    for (const [k, v] of this.headers) if (k.length === n.length && k.toLowerCase() === n) return v;
    return undefined;
  }

  push(chunk: Buffer): void {
    if (this.waiter) { const w = this.waiter; this.waiter = null; w.resolve({ value: chunk, done: false }); }
    else this.chunks.push(chunk);
  }

  end(trailers: [string, string][]): void {
    this.trailers = trailers;
    this.ended = true;
    if (this.waiter) { const w = this.waiter; this.waiter = null; w.resolve({ value: undefined, done: true }); }
  }

  fail(err: Error): void {
    this.failure = err;
    if (this.waiter) { const w = this.waiter; this.waiter = null; w.reject(err); }
  }

  body(): AsyncIterable<Buffer> {
    if (this.consumed) throw new Error('request body already consumed');
    this.consumed = true;
    const next = (): Promise<IteratorResult<Buffer>> => {
      if (this.chunks.length) return Promise.resolve({ value: this.chunks.shift()!, done: false });
      if (this.failure) return Promise.reject(this.failure);
      if (this.ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
    };
    return { [Symbol.asyncIterator]: () => ({ next }) };
  }

  async bytes(max = Infinity): Promise<Buffer> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of this.body()) {
      n += c.length;
      if (n > max) throw new Error(`request body above ${max} bytes`);
      parts.push(c);
    }
    return Buffer.concat(parts);
  }

  async json(): Promise<unknown> {
    return JSON.parse((await this.bytes()).toString('utf8'));
  }
}

/** Path and query of an absolute-form target ("http://h/p?q" → "/p?q"). */
function pathOfAbsolute(target: string): string {
  const afterScheme = target.indexOf('//');
  const slash = target.indexOf('/', afterScheme + 2);
  const qmark = target.indexOf('?', afterScheme + 2);
  if (slash < 0) return qmark < 0 ? '/' : '/' + target.slice(qmark);
  return qmark >= 0 && qmark < slash ? '/' + target.slice(qmark) : target.slice(slash);
}
