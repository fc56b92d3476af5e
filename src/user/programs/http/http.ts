/**
 * HTTP/1.1 message handling (pure): request and response heads, keep-alive rules, mapping a
 * request target to a file under the document root, content types.
 */
import { isWithin, normalize } from '../../libc/path.js';

/** A parsed request head. */
export interface HttpRequest {
  readonly method: string;
  readonly target: string;
  /** "HTTP/1.1" or "HTTP/1.0". */
  readonly version: string;
  /** Header fields, names lower-cased (the last occurrence wins). */
  readonly headers: ReadonlyMap<string, string>;
}

/** A parsed response head. */
export interface HttpResponseHead {
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  readonly headers: ReadonlyMap<string, string>;
}

/** The outcome of parsing a head from the start of a buffer. */
export type HeadOutcome<T> =
  | { readonly kind: 'ok'; readonly head: T; readonly consumed: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly message: string };

/** Largest head accepted. */
export const MAX_HEAD_BYTES = 16 * 1024;

const decoder = new TextDecoder();

/** End of the head (index after the blank line), accepting CRLF or bare LF line ends; -1 if absent. */
export function findHeadEnd(buf: Uint8Array): number {
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return i + 2;
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

function splitHead(buf: Uint8Array): HeadOutcome<{ start: string; headers: Map<string, string> }> {
  const end = findHeadEnd(buf);
  if (end < 0) {
    return buf.length > MAX_HEAD_BYTES
      ? { kind: 'error', message: 'head too large' }
      : { kind: 'incomplete' };
  }
  if (end > MAX_HEAD_BYTES) return { kind: 'error', message: 'head too large' };
  const lines = decoder
    .decode(buf.subarray(0, end))
    .split('\n')
    .map((line) => line.replace(/\r$/, ''));
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'error', message: `bad header line '${line}'` };
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { kind: 'ok', head: { start: lines[0] ?? '', headers }, consumed: end };
}

/** Parse a request head ("GET /path HTTP/1.1" and header lines). */
export function parseRequest(buf: Uint8Array): HeadOutcome<HttpRequest> {
  // Tolerate empty lines between pipelined requests (RFC 9112 §2.2).
  let skip = 0;
  while (buf[skip] === 0x0d || buf[skip] === 0x0a) skip++;
  const split = splitHead(buf.subarray(skip));
  if (split.kind !== 'ok') return split;
  const match = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(split.head.start);
  if (match === null) return { kind: 'error', message: `bad request line '${split.head.start}'` };
  return {
    kind: 'ok',
    head: { method: match[1]!, target: match[2]!, version: match[3]!, headers: split.head.headers },
    consumed: skip + split.consumed,
  };
}

/** Parse a response head ("HTTP/1.1 200 OK" and header lines). */
export function parseResponseHead(buf: Uint8Array): HeadOutcome<HttpResponseHead> {
  const split = splitHead(buf);
  if (split.kind !== 'ok') return split;
  const match = /^(HTTP\/1\.[01]) (\d{3}) ?(.*)$/.exec(split.head.start);
  if (match === null) return { kind: 'error', message: `bad status line '${split.head.start}'` };
  return {
    kind: 'ok',
    head: { version: match[1]!, status: Number(match[2]), reason: match[3]!, headers: split.head.headers },
    consumed: split.consumed,
  };
}

/** Whether the connection stays open after this message (HTTP/1.1 default, HTTP/1.0 opt-in). */
export function keepAlive(version: string, headers: ReadonlyMap<string, string>): boolean {
  const connection = (headers.get('connection') ?? '').toLowerCase();
  if (connection.split(',').some((token) => token.trim() === 'close')) return false;
  if (version === 'HTTP/1.0') return connection.split(',').some((token) => token.trim() === 'keep-alive');
  return true;
}

/** Reason phrases of the statuses the server sends. */
export const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

/** A response head. */
export function responseHead(status: number, headers: readonly [string, string][]): string {
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}`,
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Decode %XX escapes; undefined for a malformed escape. */
export function percentDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The file path for request target `target` under document root `root` (absolute, normalised):
 * the query is dropped, escapes decoded, dot segments resolved; undefined when the target is not
 * an origin-form path or would leave the root.
 */
export function targetPath(root: string, target: string): string | undefined {
  if (!target.startsWith('/')) return undefined;
  const rawPath = target.split(/[?#]/)[0]!;
  const decoded = percentDecode(rawPath);
  if (decoded === undefined || decoded.includes('\0')) return undefined;
  const path = normalize(`${root}/${normalize(`/${decoded}`)}`);
  return isWithin(normalize(root), path) ? path : undefined;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html',
  htm: 'text/html',
  txt: 'text/plain',
  css: 'text/css',
  js: 'text/javascript',
  json: 'application/json',
  png: 'image/png',
  jpg: 'image/jpeg',
  svg: 'image/svg+xml',
};

/** Content-Type by file extension (application/octet-stream when unknown). */
export function contentType(path: string): string {
  const dot = path.lastIndexOf('.');
  const ext = dot < 0 ? '' : path.slice(dot + 1).toLowerCase();
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}
