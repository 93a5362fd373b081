// Defense rules as people read them, for security events and the dashboard.
import { formatDuration } from './units.ts';
import type { DefenseRule } from './types.ts';

/** "rule 0: badRequests > 20 per 1 min -> ban for 5 mins". */
export function describeRule(r: DefenseRule, index: number): string {
  const lasting = r.remedy === 'ban' || r.remedy === 'delay' ? ` for ${formatDuration(r.for)}` : '';
  return `rule ${index}: ${r.counter} > ${r.over} per ${formatDuration(r.per)} -> ${r.remedy}${lasting}`;
}
