// Builds the application's view of a request from the module's span records. Copies bytes out of
// the input window as spans arrive, because the window is scratch space reused by the next call.
import { Moat, SpanKind, RequestFlag } from './module.ts';

export interface HttpRequest {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  headers: [string, string][];
  trailers: [string, string][];
  body: Buffer;
  keepAlive: boolean;
  expectContinue: boolean;
  flags: number;
}


const EMPTY = Buffer.alloc(0);

export class RequestAssembler {
  private cur: (Omit<HttpRequest, 'body'> & { body: Buffer[] }) | null = null;

  /**
   * With `onBody`, body bytes stream out as they arrive instead of being collected. `onHead` runs
   * when the head is complete: before the first body span of the same call, at the latest after it.
   */
  constructor(private readonly onBody?: (chunk: Buffer) => void,
              private readonly onHead?: (head: Omit<HttpRequest, 'body'>) => void) {}

  get started(): boolean { return this.cur !== null; }

  /** Reads the call's spans; `headFlags` >= 0 when the call reported the head complete. */
  spans(moat: Moat, count: number, headFlags = -1): void {
    for (let i = 0; i < count; i++) {
      const kind = moat.spanKind(i);
      if (kind === SpanKind.BODY) {
        if (headFlags >= 0) { this.head(headFlags); headFlags = -1; }
        const chunk = moat.spanCopy(i);
        if (this.onBody) this.onBody(chunk); else this.cur!.body.push(chunk);
        continue;
      }
      const text = moat.spanText(i);
      if (kind === SpanKind.METHOD) {
        this.cur = { method: text, target: '', version: '1.1', headers: [], trailers: [], body: [], keepAlive: false, expectContinue: false, flags: 0 };
        continue;
      }
      const r = this.cur!;
      if (kind === SpanKind.TARGET) r.target = text;
      else if (kind === SpanKind.NAME) r.headers.push([text, '']);
      else if (kind === SpanKind.VALUE) r.headers[r.headers.length - 1][1] = text;
      else if (kind === SpanKind.TRAILER_NAME) r.trailers.push([text, '']);
      else if (kind === SpanKind.TRAILER_VALUE) r.trailers[r.trailers.length - 1][1] = text;
    }
    if (headFlags >= 0) this.head(headFlags);
  }

  head(flags: number): Omit<HttpRequest, 'body'> {
    const r = this.cur!;
    r.version = flags & RequestFlag.V11 ? '1.1' : '1.0';
    r.keepAlive = (flags & RequestFlag.KEEP_ALIVE) !== 0;
    r.expectContinue = (flags & RequestFlag.EXPECT_CONTINUE) !== 0;
    r.flags = flags;
    this.onHead?.(r);
    return r;
  }

  done(): HttpRequest {
    const r = this.cur!;
    this.cur = null;
    const body = r.body.length === 0 ? EMPTY : r.body.length === 1 ? r.body[0] : Buffer.concat(r.body);
    return {
      method: r.method, target: r.target, version: r.version, headers: r.headers, trailers: r.trailers,
      body, keepAlive: r.keepAlive, expectContinue: r.expectContinue, flags: r.flags,
    };
  }
}
