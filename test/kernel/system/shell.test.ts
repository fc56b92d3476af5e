/**
 * Shell scripts through the real `sh` and applets on the whole system, under both designs:
 * pipelines, redirections, `&&` / `||`, exit statuses, missing commands, script files.
 */
import { describe, expect, it } from 'vitest';
import { DESIGN_NAMES, runShell } from './helpers.js';

describe.each(DESIGN_NAMES)('sh through the system (%s)', (design) => {
  it('writes a file, then counts its bytes through a pipeline', () => {
    const r = runShell(design, 'echo a > /tmp/f; cat /tmp/f | wc -c');
    expect(r.output).toBe('2\n');
    expect(r.code).toBe(0);
  });

  it('redirects output, appends, reads input and sends stderr to a file or a pipe', () => {
    const r = runShell(
      design,
      [
        'echo one > /tmp/x',
        'echo two >> /tmp/x',
        'cat < /tmp/x',
        'wc -l < /tmp/x',
        'ls /nope 2> /tmp/err',
        'echo status $?',
        'cat /tmp/err',
        'ls /nope 2>&1 | wc -l',
        'echo replaced > /tmp/x; cat /tmp/x',
      ].join('; '),
    );
    expect(r.output).toBe('one\ntwo\n2\nstatus 1\nls: /nope: No such file or directory\n1\nreplaced\n');
  });

  it('runs && and || by the status of the previous command', () => {
    const r = runShell(
      design,
      'true && echo a || echo b; false && echo c || echo d; false || false || echo e; true || echo f; echo end',
    );
    expect(r.output).toBe('a\nd\ne\nend\n');
  });

  it('exits with the status of the last command: false is 1, exit N is N', () => {
    expect(runShell(design, 'false').code).toBe(1);
    expect(runShell(design, 'true').code).toBe(0);
    expect(runShell(design, 'false; echo $?').output).toBe('1\n');
    const exit = runShell(design, 'echo before; exit 3; echo after');
    expect(exit.output).toBe('before\n');
    expect(exit.code).toBe(3);
    expect(runShell(design, 'echo x | false').code).toBe(1);
  });

  it('reports a missing command with status 127', () => {
    const r = runShell(design, 'nosuchcommand arg; echo $?');
    expect(r.output).toBe('sh: nosuchcommand: not found\n127\n');
    const last = runShell(design, 'nosuchcommand');
    expect(last.code).toBe(127);
    expect(runShell(design, '/tmp/nowhere/x').code).toBe(127);
  });

  it('runs a script file with variables, and sees its own files and processes', () => {
    const r = runShell(
      design,
      [
        "echo 'N=3; echo script $N; mkdir -p /tmp/d/e; echo deep > /tmp/d/e/f' > /tmp/s.sh",
        'sh /tmp/s.sh',
        'cat /tmp/d/e/f',
        'ls /tmp/d',
        'hostname',
        'id',
      ].join('; '),
    );
    expect(r.output).toBe('script 3\ndeep\ne\nbox\nuid=0(root) gid=0(root)\n');
    expect(r.code).toBe(0);
  });
});
