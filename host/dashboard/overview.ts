// The overview's health figures: what a glance at a small device should tell an operator.
import { readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { MoatServerLike, ReportLike } from './deps.ts';
import type { MoatConfig } from '../types.ts';
import type { SampleRing } from './samples.ts';
import { readCounters } from './samples.ts';
import { alarms, findingView, summary } from './audit-view.ts';

const PAGE = 65536;
const DAY = 86_400_000;

let certCache: { key: string; notAfter: number; subject: string } | null = null;

/** Days until the configured certificate expires (read again only when the file changes). */
export function certificate(cfg: MoatConfig, now: number): { daysLeft: number; notAfter: string; subject: string } | { error: string } | null {
  if (!cfg.tls) return null;
  try {
    const st = statSync(cfg.tls.certificate);
    const key = `${cfg.tls.certificate}:${st.ino}:${st.mtimeMs}`;
    if (certCache?.key !== key) {
      const x = new X509Certificate(readFileSync(cfg.tls.certificate));
      certCache = { key, notAfter: Date.parse(x.validTo), subject: x.subject.replace(/\n/g, ', ') };
    }
    return { daysLeft: Math.floor((certCache.notAfter - now) / DAY), notAfter: new Date(certCache.notAfter).toISOString(), subject: certCache.subject };
  } catch (e) {
    return { error: `cannot read the certificate: ${(e as Error).message}` };
  }
}

export interface OverviewInput {
  server: MoatServerLike | null;
  cfg: MoatConfig;
  startedAt: number;
  samples: SampleRing;
  tlsFailures: number;
  report: ReportLike | null;
  auditConfigured: boolean;
  evidence: boolean;
}

export function overview(o: OverviewInput, now = Date.now()) {
  const s = o.server;
  const mem = process.memoryUsage();
  const moduleBytes = s?.moat.x.memory.buffer.byteLength ?? 0;
  return {
    time: new Date(now).toISOString(),
    uptimeMs: now - o.startedAt,
    memory: {
      moduleBytes, modulePages: Math.round(moduleBytes / PAGE), moduleHighWater: s?.moat.highWater ?? 0,
      hostRss: mem.rss, hostHeapUsed: mem.heapUsed, bufferedBytes: s?.bufferedBytes() ?? 0,
    },
    connections: { used: s?.connectionCount ?? 0, limit: s?.moat.config.slots ?? o.cfg.web.limits.connections },
    traffic: s ? o.samples.rates(readCounters(s.metrics, now)) : null,
    tls: o.cfg.tls ? { failures: o.tlsFailures, certificate: certificate(o.cfg, now) } : null,
    audit: o.auditConfigured ? { last: summary(o.report), alarms: alarms(o.report).map((f) => findingView(f, o.evidence)) } : null,
  };
}
