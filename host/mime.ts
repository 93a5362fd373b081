// Content-Type by file extension: a small fixed table, no sniffing (the module also sends
// X-Content-Type-Options: nosniff). Text types carry `; charset=utf-8`; application/json and
// image/svg+xml do not (no charset parameter is defined for them).
import { extname } from 'node:path';

const UTF8 = '; charset=utf-8';

/** Lower-case extension without the dot → Content-Type value. */
export const MIME_TYPES: Readonly<Record<string, string>> = Object.freeze({
  html: 'text/html' + UTF8,
  htm: 'text/html' + UTF8,
  css: 'text/css' + UTF8,
  js: 'text/javascript' + UTF8,
  mjs: 'text/javascript' + UTF8,
  txt: 'text/plain' + UTF8,
  json: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  ico: 'image/x-icon',
  wasm: 'application/wasm',
  woff2: 'font/woff2',
  pdf: 'application/pdf',
});

export const DEFAULT_TYPE = 'application/octet-stream';

/** Content-Type for a file name or path (extension matched case-insensitively). */
export function contentType(file: string): string {
  const ext = extname(file).slice(1).toLowerCase();
  return Object.hasOwn(MIME_TYPES, ext) ? MIME_TYPES[ext] : DEFAULT_TYPE;
}
