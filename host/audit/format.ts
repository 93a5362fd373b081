// Report output in the three formats the CLI and the dashboard offer.
import type { Report } from './types.ts';
import { formatText } from './format-text.ts';
import { formatSarif } from './format-sarif.ts';

export type Format = 'text' | 'json' | 'sarif';
export const FORMATS: readonly Format[] = ['text', 'json', 'sarif'];

export function formatReport(r: Report, format: Format): string {
  if (format === 'text') return formatText(r);
  return JSON.stringify(format === 'json' ? r : formatSarif(r), null, 2) + '\n';
}
