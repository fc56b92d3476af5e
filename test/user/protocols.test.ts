/** Unit tests of the pure protocol code: RESP (kv) and HTTP/1.1 heads (httpd). */
import { describe, expect, it } from 'vitest';
import {
  contentType,
  keepAlive,
  parseRequest,
  parseResponseHead,
  responseHead,
  targetPath,
} from '../../src/user/programs/http/http.js';
import { workerShare } from '../../src/user/programs/http/load.js';
import {
  encodeBulk,
  encodeCommand,
  encodeError,
  encodeInteger,
  encodeSimple,
  encodeValue,
  formatReply,
  parseCommand,
  parseValue,
  type RespValue,
} from '../../src/user/programs/kv/resp.js';
import { hashKey } from '../../src/user/programs/kv/store.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('RESP', () => {
  it('encodes commands and replies', () => {
    expect(dec(encodeCommand(['SET', 'k', 'v1']))).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n');
    expect(dec(encodeSimple('OK'))).toBe('+OK\r\n');
    expect(dec(encodeError('ERR x'))).toBe('-ERR x\r\n');
    expect(dec(encodeInteger(-3))).toBe(':-3\r\n');
    expect(dec(encodeBulk(undefined))).toBe('$-1\r\n');
    expect(dec(encodeBulk(enc('')))).toBe('$0\r\n\r\n');
  });
  it('round-trips values', () => {
    const values: RespValue[] = [
      { type: 'simple', text: 'PONG' },
      { type: 'error', text: 'ERR no' },
      { type: 'integer', value: 12345 },
      { type: 'bulk', data: enc('a\r\nb') },
      { type: 'bulk', data: undefined },
      {
        type: 'array',
        items: [
          { type: 'integer', value: 1 },
          { type: 'bulk', data: enc('x') },
        ],
      },
      { type: 'array', items: undefined },
    ];
    for (const value of values) {
      const bytes = encodeValue(value);
      const parsed = parseValue(bytes);
      expect(parsed).toEqual({ kind: 'ok', value, consumed: bytes.length });
    }
  });
  it('parses incrementally: every proper prefix is incomplete', () => {
    const bytes = encodeCommand(['SET', 'key', 'value']);
    for (let n = 0; n < bytes.length; n++) expect(parseCommand(bytes.subarray(0, n)).kind).toBe('incomplete');
    const full = parseCommand(bytes);
    expect(full.kind).toBe('ok');
    if (full.kind === 'ok') expect(full.value.map(dec)).toEqual(['SET', 'key', 'value']);
  });
  it('parses pipelined commands one at a time', () => {
    const bytes = new Uint8Array([...encodeCommand(['PING']), ...encodeCommand(['GET', 'a'])]);
    const first = parseCommand(bytes);
    if (first.kind !== 'ok') throw new Error('parse');
    const second = parseCommand(bytes.subarray(first.consumed));
    expect(second.kind === 'ok' && second.value.map(dec)).toEqual(['GET', 'a']);
  });
  it('parses inline commands', () => {
    expect(parseCommand(enc('SET  a b\r\nrest'))).toMatchObject({ kind: 'ok', consumed: 10 });
    const r = parseCommand(enc('PING\n'));
    expect(r.kind === 'ok' && r.value.map(dec)).toEqual(['PING']);
    expect(parseCommand(enc('\r\n'))).toEqual({ kind: 'ok', value: [], consumed: 2 });
  });
  it('rejects malformed input', () => {
    expect(parseValue(enc('$abc\r\n')).kind).toBe('error');
    expect(parseValue(enc('$2\r\nabcd\r\n')).kind).toBe('error');
    expect(parseValue(enc('?x\r\n')).kind).toBe('error');
    expect(parseCommand(enc('*1\r\n:1\r\n')).kind).toBe('error');
    expect(parseValue(enc('$999999999999\r\n')).kind).toBe('error');
  });
  it('formats replies like redis-cli', () => {
    expect(formatReply({ type: 'bulk', data: undefined })).toBe('(nil)');
    expect(formatReply({ type: 'integer', value: 2 })).toBe('(integer) 2');
    expect(formatReply({ type: 'error', text: 'ERR x' })).toBe('(error) ERR x');
    expect(
      formatReply({
        type: 'array',
        items: [
          { type: 'bulk', data: enc('a') },
          { type: 'simple', text: 'b' },
        ],
      }),
    ).toBe('1) a\n2) b');
  });
  it('hashes keys with FNV-1a', () => {
    expect(hashKey(enc(''))).toBe(0x811c9dc5);
    expect(hashKey(enc('a'))).toBe(0xe40c292c);
  });
});

describe('HTTP', () => {
  it('parses a request head with CRLF or LF line ends', () => {
    const r = parseRequest(enc('GET /a%20b?q=1 HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\nBODY'));
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.head).toMatchObject({ method: 'GET', target: '/a%20b?q=1', version: 'HTTP/1.1' });
    expect(r.head.headers.get('connection')).toBe('Close');
    expect(
      dec(enc('GET /a%20b?q=1 HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\nBODY').subarray(r.consumed)),
    ).toBe('BODY');
    expect(parseRequest(enc('HEAD / HTTP/1.0\n\n'))).toMatchObject({ kind: 'ok', consumed: 17 });
  });
  it('waits for the end of the head and rejects garbage', () => {
    expect(parseRequest(enc('GET / HTTP/1.1\r\nHost: x\r\n')).kind).toBe('incomplete');
    expect(parseRequest(enc('BLAH\r\n\r\n')).kind).toBe('error');
    expect(parseRequest(enc('GET / HTTP/1.1\r\nnocolon\r\n\r\n')).kind).toBe('error');
  });
  it('parses response heads', () => {
    const r = parseResponseHead(enc(responseHead(404, [['Content-Length', '3']]) + 'abc'));
    expect(r).toMatchObject({ kind: 'ok', head: { status: 404, reason: 'Not Found' } });
  });
  it('applies the keep-alive rules of HTTP/1.0 and 1.1', () => {
    expect(keepAlive('HTTP/1.1', new Map())).toBe(true);
    expect(keepAlive('HTTP/1.1', new Map([['connection', 'close']]))).toBe(false);
    expect(keepAlive('HTTP/1.0', new Map())).toBe(false);
    expect(keepAlive('HTTP/1.0', new Map([['connection', 'Keep-Alive']]))).toBe(true);
  });
  it('maps targets into the document root and refuses escapes', () => {
    expect(targetPath('/srv/www', '/index.html')).toBe('/srv/www/index.html');
    expect(targetPath('/srv/www', '/a%20b/../c?x=1')).toBe('/srv/www/c');
    expect(targetPath('/srv/www', '/../../etc/passwd')).toBe('/srv/www/etc/passwd');
    expect(targetPath('/srv/www', '/%2e%2e/%2e%2e/etc/passwd')).toBe('/srv/www/etc/passwd');
    expect(targetPath('/srv/www', 'http://x/')).toBeUndefined();
    expect(targetPath('/srv/www', '/%zz')).toBeUndefined();
    expect(targetPath('/srv/www', '/a%00b')).toBeUndefined();
    expect(targetPath('/srv/www', '/')).toBe('/srv/www');
  });
  it('picks content types and shares load', () => {
    expect(contentType('/x/INDEX.HTML')).toBe('text/html');
    expect(contentType('/x/blob')).toBe('application/octet-stream');
    expect([0, 1, 2].map((i) => workerShare(10, 3, i))).toEqual([4, 3, 3]);
  });
});
