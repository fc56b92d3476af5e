/**
 * RESP (the Redis serialization protocol, version 2) subset, pure: encoding commands and replies,
 * incremental parsing of a byte stream. Commands are arrays of bulk strings, or inline commands
 * (words on one line).
 */

/** A RESP value. `bulk` with `data` undefined is the nil bulk string ($-1). */
export type RespValue =
  | { readonly type: 'simple'; readonly text: string }
  | { readonly type: 'error'; readonly text: string }
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'bulk'; readonly data: Uint8Array | undefined }
  | { readonly type: 'array'; readonly items: readonly RespValue[] | undefined };

/** The outcome of parsing from the start of a buffer. */
export type ParseOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly consumed: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly message: string };

/** Largest bulk string and array accepted (protects the parser from absurd lengths). */
export const MAX_BULK_BYTES = 64 * 1024 * 1024;
export const MAX_ARRAY_ITEMS = 1024 * 1024;
/** Longest inline command line. */
export const MAX_INLINE_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF = encoder.encode('\r\n');

function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** `*N\r\n` then one `$len\r\nbytes\r\n` per argument. */
export function encodeCommand(args: readonly (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(`*${args.length}\r\n`)];
  for (const arg of args) parts.push(encodeBulk(bytesOf(arg)));
  return concat(parts);
}

/** `+text\r\n`. */
export function encodeSimple(text: string): Uint8Array {
  return encoder.encode(`+${text}\r\n`);
}

/** `-text\r\n`. */
export function encodeError(text: string): Uint8Array {
  return encoder.encode(`-${text}\r\n`);
}

/** `:n\r\n`. */
export function encodeInteger(value: number): Uint8Array {
  return encoder.encode(`:${value}\r\n`);
}

/** The header of a bulk string of `length` bytes (`$-1\r\n` for nil when length is undefined). */
export function bulkHeader(length: number | undefined): Uint8Array {
  return encoder.encode(length === undefined ? '$-1\r\n' : `$${length}\r\n`);
}

/** `$len\r\nbytes\r\n`, or `$-1\r\n` for undefined. */
export function encodeBulk(data: Uint8Array | undefined): Uint8Array {
  if (data === undefined) return bulkHeader(undefined);
  return concat([bulkHeader(data.length), data, CRLF]);
}

/** Encode any value (arrays recursively). */
export function encodeValue(value: RespValue): Uint8Array {
  switch (value.type) {
    case 'simple':
      return encodeSimple(value.text);
    case 'error':
      return encodeError(value.text);
    case 'integer':
      return encodeInteger(value.value);
    case 'bulk':
      return encodeBulk(value.data);
    case 'array':
      if (value.items === undefined) return encoder.encode('*-1\r\n');
      return concat([encoder.encode(`*${value.items.length}\r\n`), ...value.items.map(encodeValue)]);
  }
}

/** Index of "\r\n" at or after `from`, or -1. */
function findCrlf(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) if (buf[i] === 0x0d && buf[i + 1] === 0x0a) return i;
  return -1;
}

function parseLine(buf: Uint8Array, offset: number): { text: string; next: number } | undefined {
  const end = findCrlf(buf, offset);
  if (end < 0) return undefined;
  return { text: decoder.decode(buf.subarray(offset, end)), next: end + 2 };
}

function parseLength(text: string, max: number): number | string {
  if (!/^-?\d+$/.test(text)) return `invalid length '${text}'`;
  const n = Number(text);
  if (n < -1 || n > max) return `length out of range '${text}'`;
  return n;
}

/** Parse one value starting at `offset`. */
export function parseValue(buf: Uint8Array, offset = 0): ParseOutcome<RespValue> {
  if (offset >= buf.length) return { kind: 'incomplete' };
  const type = String.fromCharCode(buf[offset]!);
  const line = parseLine(buf, offset + 1);
  if (line === undefined) {
    return buf.length - offset > MAX_INLINE_BYTES
      ? { kind: 'error', message: 'line too long' }
      : { kind: 'incomplete' };
  }
  const done = (value: RespValue, next: number): ParseOutcome<RespValue> => ({
    kind: 'ok',
    value,
    consumed: next - offset,
  });
  switch (type) {
    case '+':
      return done({ type: 'simple', text: line.text }, line.next);
    case '-':
      return done({ type: 'error', text: line.text }, line.next);
    case ':': {
      if (!/^-?\d+$/.test(line.text)) return { kind: 'error', message: `invalid integer '${line.text}'` };
      return done({ type: 'integer', value: Number(line.text) }, line.next);
    }
    case '$': {
      const length = parseLength(line.text, MAX_BULK_BYTES);
      if (typeof length === 'string') return { kind: 'error', message: length };
      if (length < 0) return done({ type: 'bulk', data: undefined }, line.next);
      if (buf.length < line.next + length + 2) return { kind: 'incomplete' };
      if (buf[line.next + length] !== 0x0d || buf[line.next + length + 1] !== 0x0a) {
        return { kind: 'error', message: 'bulk string not terminated by CRLF' };
      }
      return done({ type: 'bulk', data: buf.slice(line.next, line.next + length) }, line.next + length + 2);
    }
    case '*': {
      const count = parseLength(line.text, MAX_ARRAY_ITEMS);
      if (typeof count === 'string') return { kind: 'error', message: count };
      if (count < 0) return done({ type: 'array', items: undefined }, line.next);
      const items: RespValue[] = [];
      let next = line.next;
      for (let i = 0; i < count; i++) {
        const item = parseValue(buf, next);
        if (item.kind !== 'ok') return item;
        items.push(item.value);
        next += item.consumed;
      }
      return done({ type: 'array', items }, next);
    }
    default:
      return { kind: 'error', message: `unexpected byte '${type}'` };
  }
}

/**
 * Parse one command: an array of bulk strings, or an inline command (space-separated words ending
 * with "\n" or "\r\n"). An empty inline line is consumed and gives an empty command.
 */
export function parseCommand(buf: Uint8Array): ParseOutcome<Uint8Array[]> {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] === 0x2a /* '*' */) {
    const value = parseValue(buf);
    if (value.kind !== 'ok') return value;
    if (value.value.type !== 'array' || value.value.items === undefined) {
      return { kind: 'error', message: 'expected an array of bulk strings' };
    }
    const args: Uint8Array[] = [];
    for (const item of value.value.items) {
      if (item.type !== 'bulk' || item.data === undefined) {
        return { kind: 'error', message: 'expected an array of bulk strings' };
      }
      args.push(item.data);
    }
    return { kind: 'ok', value: args, consumed: value.consumed };
  }
  const newline = buf.indexOf(0x0a);
  if (newline < 0) {
    return buf.length > MAX_INLINE_BYTES
      ? { kind: 'error', message: 'line too long' }
      : { kind: 'incomplete' };
  }
  const end = newline > 0 && buf[newline - 1] === 0x0d ? newline - 1 : newline;
  const words = decoder
    .decode(buf.subarray(0, end))
    .split(/[ \t]+/)
    .filter((word) => word !== '');
  return { kind: 'ok', value: words.map((word) => encoder.encode(word)), consumed: newline + 1 };
}

/** A reply as redis-cli prints it: `OK`, `(nil)`, `(integer) 3`, `(error) ERR ...`, numbered arrays. */
export function formatReply(value: RespValue, indent = ''): string {
  switch (value.type) {
    case 'simple':
      return value.text;
    case 'error':
      return `(error) ${value.text}`;
    case 'integer':
      return `(integer) ${value.value}`;
    case 'bulk':
      return value.data === undefined ? '(nil)' : decoder.decode(value.data);
    case 'array':
      if (value.items === undefined || value.items.length === 0) return '(empty array)';
      return value.items
        .map((item, i) => `${i === 0 ? '' : indent}${i + 1}) ${formatReply(item, `${indent}   `)}`)
        .join('\n');
  }
}
