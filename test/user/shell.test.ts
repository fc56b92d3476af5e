/** End-to-end tests of `sh` on the fake kernel: expansion, lists, pipelines, redirections, builtins, errors. */
import { describe, expect, it } from 'vitest';
import { makeSystem, run, sh } from './fake/host.js';

describe('sh', () => {
  it('runs commands with variables and the status of the last command', () => {
    const r = sh(
      'A=hello; B="$A world"; echo $B; false; echo $?; true && echo yes || echo no; false || echo alt',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello world\n1\nyes\nalt\n');
    expect(r.status).toBe(0);
    expect(sh('false').status).toBe(1);
    expect(sh('exit 7; echo unreachable').status).toBe(7);
  });

  it('connects pipelines with the last command giving the status', () => {
    const r = sh('echo a b c | wc -w; echo x | false; echo $?; echo y | grep -c y | cat');
    expect(r.stdout).toBe('3\n1\n1\n');
    expect(sh('echo z | grep q').status).toBe(1);
    expect(sh('! echo z | grep q').status).toBe(0);
  });

  it('redirects output, appends, reads input and duplicates fds', () => {
    const kernel = makeSystem();
    const r = sh(
      'echo one > /tmp/f; echo two >> /tmp/f; cat < /tmp/f; ls /nope 2>/tmp/err; cat /tmp/err; ls /nope 2>&1 | wc -l',
      { kernel },
    );
    expect(r.stdout).toBe('one\ntwo\nls: /nope: No such file or directory\n1\n');
    expect(r.stderr).toBe('');
    expect(kernel.fs.readText('/tmp/f')).toBe('one\ntwo\n');
    expect(sh('>/tmp/empty', { kernel }).status).toBe(0);
    expect(kernel.fs.readText('/tmp/empty')).toBe('');
  });

  it('restores fds after a redirected builtin', () => {
    const kernel = makeSystem();
    const r = sh('pwd > /tmp/p; echo after', { kernel });
    expect(r.stdout).toBe('after\n');
    expect(kernel.fs.readText('/tmp/p')).toBe('/\n');
  });

  it('reports a missing command with status 127 and a non-executable with 126', () => {
    const kernel = makeSystem();
    kernel.fs.writeFile('/tmp/noexec', 'data', 0o644);
    const r = sh('nosuch arg; echo $?; /tmp/noexec; echo $?', { kernel });
    expect(r.stderr).toBe('sh: nosuch: not found\nsh: /tmp/noexec: Permission denied\n');
    expect(r.stdout).toBe('127\n126\n');
    expect(sh('nosuch').status).toBe(127);
  });

  it('reports redirection failures', () => {
    const r = sh('cat < /missing; echo $?');
    expect(r.stderr).toBe("sh: can't open '/missing': No such file or directory\n");
    expect(r.stdout).toBe('1\n');
  });

  it('runs cd, export, unset and passes the environment to children', () => {
    const r = sh(
      'cd /tmp; pwd; echo $PWD; export X=1; Y=2; env | grep -E "^(X|Y)="; Z=3 env | grep Z=; unset X; env | grep -c X=',
    );
    expect(r.stdout).toBe('/tmp\n/tmp\nX=1\nZ=3\n0\n');
    const bad = sh('cd /nonexistent');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe("sh: cd: can't cd to /nonexistent: No such file or directory\n");
  });

  it('replaces itself with exec', () => {
    const r = sh('exec echo replaced; echo not reached');
    expect(r.stdout).toBe('replaced\n');
    const kernel = makeSystem();
    sh('exec > /tmp/out; echo captured', { kernel });
    expect(kernel.fs.readText('/tmp/out')).toBe('captured\n');
  });

  it('expands $$, $0 and positional parameters of -c', () => {
    const r = run(['sh', '-c', 'echo $0 $# "$@"; echo $$', 'name', 'a', 'b c']);
    expect(r.stdout).toBe('name 2 a b c\n1\n');
  });

  it('runs a script file and scripts without an executable header', () => {
    const kernel = makeSystem();
    kernel.fs.writeFile('/tmp/s.sh', 'echo script $1\nexit 3\n', 0o755);
    const r = run(['sh', '/tmp/s.sh', 'arg'], { kernel });
    expect(r.stdout).toBe('script arg\n');
    expect(r.status).toBe(3);
    const viaExec = sh('/tmp/s.sh direct; echo $?', { kernel });
    expect(viaExec.stdout).toBe('script direct\n3\n');
  });

  it('reads commands from standard input, continuing open quotes over lines', () => {
    const r = run(['sh'], { stdin: "echo 'multi\nline'\necho b |\n cat\nexit 4\necho no\n" });
    expect(r.stdout).toBe('multi\nline\nb\n');
    expect(r.status).toBe(4);
  });

  it('reports syntax errors with status 2', () => {
    const r = sh('echo a | | b');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('sh: syntax error: unexpected "|"\n');
  });

  it('runs background jobs and waits for them', () => {
    const r = sh('sleep 1 & echo started $!; wait; echo done');
    expect(r.stdout).toBe('started 2\ndone\n');
    expect(r.kernel.now).toBeGreaterThanOrEqual(1e9);
  });
});
