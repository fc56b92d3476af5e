/** Unit tests of the pure libc parts: printf formatting, paths, option parsing, the environment. */
import { describe, expect, it } from 'vitest';
import { parseArgs, parseCount, parseDecimal } from '../../src/user/libc/args.js';
import { Env } from '../../src/user/libc/env.js';
import { pathCandidates } from '../../src/user/libc/exec.js';
import { format } from '../../src/user/libc/format.js';
import { basename, dirname, isWithin, join, normalize, resolve } from '../../src/user/libc/path.js';
import { decodeWaitStatus, shellStatus } from '../../src/user/libc/wait.js';
import { classBytes, sizeClass } from '../../src/user/libc/malloc.js';
import { wExited, wSignaled } from '../../src/kernel/uapi/flags.js';

describe('format', () => {
  it('formats integers with width, flags and precision', () => {
    expect(format('%d|%5d|%-5d|%05d|%+d|% d', 42, 42, 42, 42, 42, 42)).toBe('42|   42|42   |00042|+42| 42');
    expect(format('%d %i %05d', -7, -7, -42)).toBe('-7 -7 -0042');
    expect(format('%.3d|%8.3d', 5, 5)).toBe('005|     005');
    expect(format('%u', -1)).toBe('18446744073709551615');
  });
  it('formats hex, octal, chars and strings', () => {
    expect(format('%x %X %#x %o %#o %08x', 255, 255, 255, 8, 8, 0xbeef)).toBe('ff FF 0xff 10 010 0000beef');
    expect(format('%c%c', 'hi', 65)).toBe('hA');
    expect(format('[%s] [%6s] [%-6s] [%.2s]', 'abc', 'abc', 'abc', 'abc')).toBe(
      '[abc] [   abc] [abc   ] [ab]',
    );
    expect(format('%-8.8s|', 'averylongname')).toBe('averylon|');
  });
  it('formats floating point like C', () => {
    expect(format('%f %.3f %.0f %8.2f %-8.1f|', 1.5, 0.1234, 2.5, 3.14159, 2)).toBe(
      '1.500000 0.123 3 ' + '    3.14 2.0     |',
    );
    expect(format('%e', 12345.678)).toBe('1.234568e+04');
    expect(format('%g %g %g', 0.0001, 123456, 1234567)).toBe('0.0001 123456 1.23457e+06');
    expect(format('%.2f', -0.001)).toBe('-0.00');
  });
  it('supports * width and %%', () => {
    expect(format('%*d|%-*d|%.*f|100%%', 4, 7, 3, 7, 1, 2.26)).toBe('   7|7  |2.3|100%');
  });
  it('takes bigints and missing arguments', () => {
    expect(format('%d %x', 2n ** 60n, 2n ** 60n)).toBe('1152921504606846976 1000000000000000');
    expect(format('%d %s|', undefined as unknown as number)).toBe('0 |');
  });
});

describe('path', () => {
  it('normalizes lexically', () => {
    expect(normalize('a//b/../c/.')).toBe('a/c');
    expect(normalize('/../a/./b/')).toBe('/a/b');
    expect(normalize('../a/../..')).toBe('../..');
    expect(normalize('')).toBe('.');
    expect(normalize('/')).toBe('/');
  });
  it('joins and resolves', () => {
    expect(join('/a', 'b', '../c')).toBe('/a/c');
    expect(join('a', '/abs', 'x')).toBe('/abs/x');
    expect(join('', 'x')).toBe('x');
    expect(resolve('/home/u', '../v/w')).toBe('/home/v/w');
    expect(resolve('/home/u', '/etc')).toBe('/etc');
  });
  it('dirname and basename follow POSIX', () => {
    expect([
      dirname('/a/b'),
      dirname('/a/b/'),
      dirname('a'),
      dirname('/'),
      dirname('/a'),
      dirname('a//b'),
    ]).toEqual(['/a', '/a', '.', '/', '/', 'a']);
    expect([basename('/a/b'), basename('/a/b/'), basename('b'), basename('/')]).toEqual(['b', 'b', 'b', '/']);
  });
  it('checks containment', () => {
    expect(isWithin('/srv', '/srv/x')).toBe(true);
    expect(isWithin('/srv', '/srv')).toBe(true);
    expect(isWithin('/srv', '/srvx')).toBe(false);
    expect(isWithin('/', '/anything')).toBe(true);
  });
});

describe('parseArgs', () => {
  const spec = { flags: 'lav', values: 'np', long: { loops: 'n', verbose: 'v' } };
  it('parses clustered flags, attached and separate values, long options', () => {
    const r = parseArgs(['-la', '-n5', 'x', '-p', '80', '--loops=7', '--verbose', 'y'], spec);
    expect(r.error).toBeUndefined();
    expect([...r.flags].sort()).toEqual(['a', 'l', 'v']);
    expect(r.values.get('n')).toBe('7');
    expect(r.values.get('p')).toBe('80');
    expect(r.operands).toEqual(['x', 'y']);
  });
  it('ends options at -- and treats - as an operand', () => {
    const r = parseArgs(['-l', '--', '-a', '-'], spec);
    expect(r.operands).toEqual(['-a', '-']);
    expect(parseArgs(['-'], spec).operands).toEqual(['-']);
  });
  it('stops at the first operand when asked', () => {
    const r = parseArgs(['-l', 'cmd', '-a'], { ...spec, stopAtOperand: true });
    expect(r.operands).toEqual(['cmd', '-a']);
    expect(r.flags.has('a')).toBe(false);
  });
  it('reports errors in getopt wording', () => {
    expect(parseArgs(['-x'], spec).error).toBe("invalid option -- 'x'");
    expect(parseArgs(['-n'], spec).error).toBe("option requires an argument -- 'n'");
    expect(parseArgs(['--nope'], spec).error).toBe("unrecognized option '--nope'");
    expect(parseArgs(['--verbose=1'], spec).error).toBe("option '--verbose' doesn't allow an argument");
  });
  it('parses counts and decimals strictly', () => {
    expect([parseCount('12'), parseCount('-1'), parseCount('1e3'), parseCount(undefined)]).toEqual([
      12,
      undefined,
      undefined,
      undefined,
    ]);
    expect([parseDecimal('0.5'), parseDecimal('.5'), parseDecimal('3'), parseDecimal('x')]).toEqual([
      0.5,
      0.5,
      3,
      undefined,
    ]);
  });
});

describe('environment and exec helpers', () => {
  it('copies envp, sets, unsets and clones independently', () => {
    const env = Env.fromStrings(['PATH=/bin', 'A=1=2', 'junk', 'B=']);
    expect(env.get('A')).toBe('1=2');
    expect(env.get('B')).toBe('');
    expect(env.has('junk')).toBe(false);
    const copy = env.clone();
    copy.set('A', 'x');
    copy.unset('PATH');
    expect(env.toStrings()).toEqual(['PATH=/bin', 'A=1=2', 'B=']);
    expect(copy.toStrings()).toEqual(['A=x', 'B=']);
  });
  it('lists PATH candidates', () => {
    expect(pathCandidates('ls', '/bin:/usr/bin/:')).toEqual(['/bin/ls', '/usr/bin/ls', 'ls']);
    expect(pathCandidates('./x', '/bin')).toEqual(['./x']);
  });
  it('decodes wait statuses', () => {
    expect(decodeWaitStatus(5, wExited(3))).toMatchObject({ pid: 5, exited: true, code: 3, signal: 0 });
    expect(shellStatus(decodeWaitStatus(5, wSignaled(9)))).toBe(137);
  });
  it('rounds malloc requests to power-of-two classes', () => {
    expect(classBytes(sizeClass(1)!)).toBe(32);
    expect(classBytes(sizeClass(33)!)).toBe(64);
    expect(classBytes(sizeClass(65536)!)).toBe(65536);
    expect(sizeClass(65537)).toBeUndefined();
  });
});
