/**
 * End-to-end tests of the workload programs on the fake kernel: kv-server/kv-client, httpd/http-load,
 * hackbench, build (cc, ld), the lmbench probes, and the canary.
 */
import { describe, expect, it } from 'vitest';
import { parseHackbenchArgs, HACKBENCH_DEFAULTS } from '../../src/user/programs/hackbench.js';
import { compile, generateSource, isObject } from '../../src/user/programs/build/object.js';
import { formatMeasurement, PROBES } from '../../src/user/programs/lmbench/main.js';
import { PROGRAM_NAMES } from '../../src/user/programs/index.js';
import { ProgramRegistry } from '../../src/user/program.js';
import { registerPrograms } from '../../src/user/programs/index.js';
import { readToEnd, writeString } from '../../src/user/libc/io.js';
import { tcpConnectRetry } from '../../src/user/libc/net.js';
import { defineProgram } from '../../src/user/libc/program.js';
import { isError } from '../../src/user/libc/syscall.js';
import { makeSystem, run, sh } from './fake/host.js';

describe('registry', () => {
  it('registers every program once under its name', () => {
    const registry = new ProgramRegistry();
    registerPrograms(registry);
    expect(registry.names()).toEqual([...PROGRAM_NAMES]);
    for (const name of [
      'sh',
      'cat',
      'kv-server',
      'kv-client',
      'httpd',
      'http-load',
      'hackbench',
      'build',
      'cc',
      'ld',
      'lmbench',
      'canary',
    ]) {
      expect(registry.get(name)).toBeTypeOf('function');
    }
  });
});

describe('kv', () => {
  it('serves SET/GET/DEL/INCR to clients in turn and shuts down', () => {
    const r = sh(
      [
        'kv-server -p 7000 &',
        'kv-client -p 7000 PING',
        'kv-client -p 7000 SET greeting "hello world"',
        'kv-client -p 7000 GET greeting',
        'kv-client -p 7000 GET missing',
        'kv-client -p 7000 INCR n',
        'kv-client -p 7000 INCR n',
        'kv-client -p 7000 INCR greeting',
        'kv-client -p 7000 DEL greeting n missing',
        'kv-client -p 7000 DBSIZE',
        'kv-client -p 7000 NOPE',
        'kv-client -p 7000 SHUTDOWN',
        'wait',
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'kv-server: listening on port 7000',
        'PONG',
        'OK',
        'hello world',
        '(nil)',
        '(integer) 1',
        '(integer) 2',
        '(error) ERR value is not an integer or out of range',
        '(integer) 2',
        '(integer) 0',
        "(error) ERR unknown command 'nope'",
        '',
      ].join('\n'),
    );
  });

  it('runs the client benchmark and checks every GET', () => {
    const r = sh('kv-server -p 7001 -n 1 & kv-client -p 7001 -n 200 -d 64; wait');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /kv-client: 200 requests in \d+\.\d{3} ms \(simulated\), \d+\.\d requests\/s, 0 errors\n$/,
    );
    expect(r.status).toBe(0);
  });

  it('keeps values in user memory, not in the server process image as JS strings', () => {
    const kernel = makeSystem();
    kernel.spawn('/bin/sh', ['sh', '-c', 'kv-server -p 7002 & kv-client -p 7002 SET k CANARY-VALUE-1234']);
    kernel.runUntilIdle();
    expect(kernel.stdout).toBe('kv-server: listening on port 7002\nOK\n');
    const needle = new TextEncoder().encode('CANARY-VALUE-1234');
    let found = false;
    for (const page of kernel.userMemory()) if (indexOf(page, needle) >= 0) found = true;
    expect(found).toBe(true);
  });
});

describe('http', () => {
  it('serves files with 200, 404, HEAD and keep-alive', () => {
    const kernel = makeSystem();
    kernel.fs.writeFile('/www/index.html', '<h1>hi</h1>\n');
    kernel.fs.writeFile('/www/big.txt', 'y'.repeat(50_000));
    const r = sh(
      'httpd -p 8000 -d /www -n 5 & http-load -p 8000 -n 5 -c 1 -k /big.txt; http-load -p 8000 -n 4 -c 2 /; wait',
      { kernel },
    );
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('httpd: serving /www on port 8000');
    expect(lines[1]).toBe('http-load: 5 requests, 1 concurrent, 5 ok, 0 failed, 250000 bytes');
    expect(lines[2]).toMatch(/^http-load: \d+\.\d{3} ms \(simulated\), \d+\.\d requests\/s$/);
    expect(lines[3]).toBe('http-load: 4 requests, 2 concurrent, 4 ok, 0 failed, 48 bytes');
    expect(r.status).toBe(0);
  });

  it('counts a 404 as a failed request', () => {
    const kernel = makeSystem();
    kernel.fs.writeFile('/www/a.txt', 'A');
    const r = sh(
      'httpd -s -p 8001 -d /www -n 2 & http-load -p 8001 -n 1 /missing; s=$?; http-load -p 8001 -n 1 /a.txt; wait; exit $s',
      { kernel },
    );
    expect(r.stdout).toMatch(
      /1 requests, 1 concurrent, 0 ok, 1 failed.*\n.*\n.*1 requests, 1 concurrent, 1 ok, 0 failed, 1 bytes/,
    );
    expect(r.status).toBe(1);
  });

  it('answers HEAD, 400 and 405 on one persistent connection, pipelined', () => {
    const client = defineProgram(function* (p) {
      const fd = yield* tcpConnectRetry(p, 8002);
      if (isError(fd)) return 1;
      yield* writeString(
        p,
        fd,
        'HEAD /a.txt HTTP/1.1\r\n\r\nGET /../a.txt HTTP/1.1\r\n\r\nPOST /a.txt HTTP/1.1\r\n\r\nGET bad HTTP/1.1\r\nConnection: close\r\n\r\n',
      );
      const reply = yield* readToEnd(p, fd);
      if (typeof reply === 'number') return 1;
      yield* p.stdout.write(reply);
      return 0;
    });
    const kernel = makeSystem({ client });
    kernel.fs.writeFile('/www/a.txt', 'AAAA');
    const r = sh('httpd -s -p 8002 -d /www -n 1 & client; wait', { kernel });
    const statuses = [...r.stdout.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '200', '405', '400']);
    expect(r.stdout).toContain('Content-Length: 4\r\nConnection: keep-alive\r\n\r\nHTTP/1.1 200 OK');
    expect(
      r.stdout.endsWith('AAAA400 Bad Request\n') ||
        r.stdout.includes('Connection: close\r\n\r\n400 Bad Request\n'),
    ).toBe(true);
  });
});

describe('hackbench', () => {
  it('parses rt-tests options', () => {
    expect(parseHackbenchArgs([])).toEqual(HACKBENCH_DEFAULTS);
    expect(parseHackbenchArgs(['-g', '2', '--fds=3', '-l', '5', '--datasize', '10', '-p', '-T'])).toEqual({
      groups: 2,
      fds: 3,
      loops: 5,
      datasize: 10,
      pipes: true,
      threads: true,
    });
    expect(parseHackbenchArgs(['-g', '0'])).toBe('invalid number of groups');
  });

  for (const [mode, args] of [
    ['process, sockets', []],
    ['process, pipes', ['-p']],
    ['threads, sockets', ['-T']],
    ['threads, pipes', ['-T', '-p']],
  ] as const) {
    it(`runs in ${mode} mode`, () => {
      const r = run(['hackbench', '-g', '2', '-f', '3', '-l', '4', '-s', '50', ...args]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const threaded = args.includes('-T' as never);
      expect(r.stdout).toMatch(
        new RegExp(
          `^Running in ${threaded ? 'threaded' : 'process'} mode with 2 groups using 6 file descriptors each \\(== 12 tasks\\)\\n` +
            'Each sender will pass 4 messages of 50 bytes\\nTime: \\d+\\.\\d{3}\\n$',
        ),
      );
    });
  }
});

describe('build', () => {
  it('generates sources and objects deterministically', () => {
    const source = new TextEncoder().encode(generateSource(3, 500));
    expect(source.length).toBeGreaterThanOrEqual(500);
    const object = compile('m3.c', source);
    expect(isObject(object)).toBe(true);
    expect(compile('m3.c', source)).toEqual(object);
  });

  it('compiles with forked cc processes and links with ld', () => {
    const r = run(['build', '-n', '4', '-j', '2', '-s', '1000', '-d', '/tmp/b']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /^build: 4 objects, linked \/tmp\/b\/a\.out \(\d+ bytes\) in \d+\.\d{3} ms \(simulated\)\n$/,
    );
    const out = r.kernel.fs.readText('/tmp/b/a.out');
    expect(out?.startsWith('RCXLNK1\n')).toBe(true);
    // cc declares its work: 4 sources of >= 1000 bytes at 400 cycles per byte.
    expect(r.kernel.now).toBeGreaterThan(4 * 1000 * 400);
  });

  it('fails when the compiler is missing', () => {
    const kernel = makeSystem();
    sh('rm /bin/cc', { kernel });
    const r = run(['build', '-n', '1', '-d', '/tmp/c'], { kernel });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('build: cc: No such file or directory');
  });
});

describe('lmbench', () => {
  it('runs every probe and prints microseconds per operation', () => {
    const r = run(['lmbench', 'all', '-n', '5']);
    expect(r.stderr).toBe('');
    const names = r.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(':')[0]);
    expect(names).toEqual(Object.keys(PROBES));
    for (const line of r.stdout.trim().split('\n')) expect(line).toMatch(/^[a-z]+: \d+\.\d\d us$/);
  });

  it('measures a null syscall at about the fake kernel syscall cost', () => {
    const r = run(['lmbench', 'null', '-n', '100']);
    const us = Number(/null: ([\d.]+) us/.exec(r.stdout)?.[1]);
    expect(us).toBeGreaterThan(0.09);
    expect(us).toBeLessThan(0.2);
  });

  it('formats measurements and rejects unknown probes', () => {
    expect(formatMeasurement('null', 4200, 10)).toBe('null: 0.42 us');
    expect(run(['lmbench', 'bogus']).status).toBe(1);
  });
});

describe('canary', () => {
  it('plants the secret in heap, file, pipe and socket buffers, then idles', () => {
    const kernel = makeSystem();
    const secret = 'TOP-SECRET-CANARY-42';
    const pid = kernel.spawn('/bin/canary', ['canary', secret, '-r', '0']);
    kernel.runUntilIdle(kernel.now + 50_000_000);
    expect(kernel.stdout).toMatch(/^canary: ready pid=1 child=2\n$/);
    const needle = new TextEncoder().encode(secret);
    const count = (chunks: Iterable<Uint8Array>): number => {
      let n = 0;
      for (const chunk of chunks) n += occurrences(chunk, needle);
      return n;
    };
    expect(kernel.fs.readText('/tmp/canary-1')).toBe(secret);
    // Parent heap copy + child's pipe and socket copies (plus staging copies in scratch areas).
    expect(count(kernel.userMemory())).toBeGreaterThanOrEqual(3);
    // One unread copy in the pipe and one in the socket buffer.
    expect(count(kernel.bufferedBytes())).toBe(2);
    kernel.killProcess(2, 9);
    kernel.killProcess(pid, 9);
    kernel.run();
  });

  it('ends by itself after the given rounds', () => {
    const r = run(['canary', 'S3CRET', '-r', '3', '-t', '1000']);
    expect(r.status).toBe(0);
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function occurrences(haystack: Uint8Array, needle: Uint8Array): number {
  let n = 0;
  for (let at = indexOf(haystack, needle); at >= 0;) {
    n++;
    const next = indexOf(haystack.subarray(at + 1), needle);
    at = next < 0 ? -1 : at + 1 + next;
  }
  return n;
}
