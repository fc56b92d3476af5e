/**
 * The shell's executor: variables, builtins, pipelines (pipe2 + fork + dup3 + execve), and-or
 * lists. A Shell is the state of one shell process; a forked child gets a copy.
 */
import { Errno, strerror } from '../../../kernel/uapi/errno.js';
import { O } from '../../../kernel/uapi/flags.js';
import { Cost } from '../../libc/cost.js';
import { execvp } from '../../libc/exec.js';
import { chdir, getcwd, readTextFile } from '../../libc/files.js';
import { fork } from '../../libc/fork.js';
import { pipe } from '../../libc/io.js';
import { exit } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { close, dup3 } from '../../libc/sys-fs.js';
import { shellStatus, waitpid, type WaitResult } from '../../libc/wait.js';
import { trapSignal, Traps } from './traps.js';
import type { AndOr, Pipeline, Script, SimpleCommand } from './ast.js';
import { expandWord, expandWordToString, type ExpansionContext } from './expand.js';
import { parse } from './parse.js';
import { applyRedirects, restoreRedirects, type ExpandedRedirect, type SavedFd } from './redirect.js';

/** Exit statuses of the shell for a command that was not found / not executable. */
export const STATUS_NOT_FOUND = 127;
export const STATUS_NOT_EXECUTABLE = 126;
/** Exit status for a syntax error. */
export const STATUS_SYNTAX = 2;

const BUILTINS = new Set(['cd', 'exit', 'export', 'unset', 'exec', ':', 'pwd', 'wait', 'trap']);

/** The state of a shell process. */
export class Shell {
  readonly p: Proc;
  /** Shell variables that are not exported (exported ones live in p.env). */
  private readonly locals: Map<string, string>;
  /** $0 and $1..$n. */
  private readonly scriptName: string;
  private readonly positional: readonly string[];
  /** $$: the pid of the shell (a subshell keeps its parent's). */
  private readonly pid: number;
  /** $?. */
  status = 0;
  /** $!: the pid of the last background job (0 when none). */
  private lastBackground = 0;
  /** This shell's traps (a subshell starts with none). */
  private readonly traps: Traps;

  constructor(
    p: Proc,
    pid: number,
    scriptName: string,
    positional: readonly string[],
    locals = new Map<string, string>(),
  ) {
    this.p = p;
    this.pid = pid;
    this.scriptName = scriptName;
    this.positional = positional;
    this.locals = locals;
    this.traps = new Traps(p);
  }

  /** A copy for a forked child with libc state `p`. */
  clone(p: Proc): Shell {
    const copy = new Shell(p, this.pid, this.scriptName, this.positional, new Map(this.locals));
    copy.status = this.status;
    copy.lastBackground = this.lastBackground;
    return copy;
  }

  private readonly ctx: ExpansionContext = {
    get: (name) => this.lookup(name),
    positional: () => this.positional,
  };

  /** The value of a parameter. */
  lookup(name: string): string | undefined {
    switch (name) {
      case '?':
        return String(this.status);
      case '$':
        return String(this.pid);
      case '#':
        return String(this.positional.length);
      case '0':
        return this.scriptName;
      case '-':
        return '';
      case '!':
        return this.lastBackground === 0 ? '' : String(this.lastBackground);
    }
    if (/^\d+$/.test(name)) return this.positional[Number(name) - 1];
    return this.locals.get(name) ?? this.p.env.get(name);
  }

  /** Set a variable (exported ones stay exported). */
  setVar(name: string, value: string): void {
    if (this.p.env.has(name)) this.p.env.set(name, value);
    else this.locals.set(name, value);
  }

  /** Parse and run `source`; returns the status of the last command (2 on a syntax error). */
  *runSource(source: string): Call<number> {
    const parsed = parse(source);
    if (!parsed.ok) {
      yield* this.p.stderr.print(`${this.p.name}: ${parsed.error}\n`);
      this.status = STATUS_SYNTAX;
      return this.status;
    }
    return yield* this.runScript(parsed.script);
  }

  /** Run a parsed script. */
  *runScript(script: Script): Call<number> {
    for (const item of script) {
      if (item.background) yield* this.runBackground(item.andOr);
      else yield* this.runAndOr(item.andOr);
      if (this.traps.hasPending) yield* this.runTraps();
    }
    return this.status;
  }

  /** Run the commands of the trapped signals that arrived ($? is kept unless one exits). */
  private *runTraps(): Call<void> {
    for (const command of this.traps.takePending()) {
      const status = this.status;
      yield* this.runSource(command);
      this.status = status;
    }
  }

  /** The shell ends with `status`: its EXIT trap runs first; the status to exit with. */
  *finish(status: number): Call<number> {
    const command = this.traps.takeExit();
    if (command === undefined) return status;
    this.status = status;
    yield* this.runSource(command);
    return status;
  }

  /** Wait for a foreground child (a trapped signal does not cut the wait short). */
  private *waitForeground(pid: number): Call<WaitResult | number> {
    for (;;) {
      const result = yield* waitpid(this.p, pid);
      if (result !== -Errno.EINTR) return result;
    }
  }

  /** `list &`: run in a forked child without waiting; $! is its pid. */
  private *runBackground(list: AndOr): Call<void> {
    const pid = yield* fork(this.p, (cp) => this.clone(cp).runAndOrStatus(list));
    if (isError(pid)) {
      yield* this.p.stderr.print(`${this.p.name}: fork: ${strerror(pid)}\n`);
      this.status = 1;
      return;
    }
    this.lastBackground = pid;
    this.status = 0;
  }

  /** A background job in its child: a lone simple command is exec'd there directly (no second fork). */
  private *runAndOrStatus(list: AndOr): Call<number> {
    const only = list.rest.length === 0 && list.first.commands.length === 1 && !list.first.negated;
    if (only) return yield* this.runCommand(list.first.commands[0]!, true);
    yield* this.runAndOr(list);
    return this.status;
  }

  private *runAndOr(list: AndOr): Call<void> {
    this.status = yield* this.runPipeline(list.first);
    for (const { op, pipeline } of list.rest) {
      if ((op === '&&') === (this.status === 0)) this.status = yield* this.runPipeline(pipeline);
    }
  }

  private *runPipeline(pipeline: Pipeline): Call<number> {
    const status =
      pipeline.commands.length === 1
        ? yield* this.runCommand(pipeline.commands[0]!, false)
        : yield* this.runPipe(pipeline.commands);
    return pipeline.negated ? (status === 0 ? 1 : 0) : status;
  }

  /** `a | b | c`: one child per command, connected by pipes; the status is the last one's. */
  private *runPipe(commands: readonly SimpleCommand[]): Call<number> {
    const p = this.p;
    const pids: number[] = [];
    let previousRead = -1;
    for (let i = 0; i < commands.length; i++) {
      const last = i === commands.length - 1;
      const fds = last ? undefined : yield* pipe(p, O.CLOEXEC);
      if (typeof fds === 'number') {
        yield* p.stderr.print(`${p.name}: pipe: ${strerror(fds)}\n`);
        break;
      }
      const input = previousRead;
      const command = commands[i]!;
      const pid = yield* fork(p, (cp) => this.clone(cp).pipeChild(command, input, fds));
      if (isError(pid)) {
        yield* p.stderr.print(`${p.name}: fork: ${strerror(pid)}\n`);
      } else {
        pids.push(pid);
      }
      if (previousRead >= 0) yield* close(previousRead);
      if (fds !== undefined) {
        yield* close(fds[1]);
        previousRead = fds[0];
      }
    }
    if (previousRead >= 0) yield* close(previousRead);
    let status = 1;
    for (const pid of pids) {
      const result = yield* this.waitForeground(pid);
      if (typeof result !== 'number') status = shellStatus(result);
    }
    return status;
  }

  private *pipeChild(
    command: SimpleCommand,
    input: number,
    output: [number, number] | undefined,
  ): Call<number> {
    if (input >= 0) {
      yield* dup3(input, 0, 0);
      yield* close(input);
    }
    if (output !== undefined) {
      yield* dup3(output[1], 1, 0);
      yield* close(output[1]);
      yield* close(output[0]);
    }
    return yield* this.runCommand(command, true);
  }

  /** Run a simple command; `inChild` when this process may be replaced or ended by it. */
  private *runCommand(command: SimpleCommand, inChild: boolean): Call<number> {
    const p = this.p;
    p.cpu.compute(Cost.perCommand);
    const assignments = command.assignments.map((a) => ({
      name: a.name,
      value: expandWordToString(a.value, this.ctx),
    }));
    const words = command.words.flatMap((w) => expandWord(w, this.ctx));
    const redirects: ExpandedRedirect[] = command.redirects.map((r) => ({
      fd: r.fd,
      op: r.op,
      target: expandWordToString(r.target, this.ctx),
    }));
    const name = words[0];
    if (name === undefined) {
      for (const a of assignments) this.setVar(a.name, a.value);
      const saved: SavedFd[] = [];
      const ok = yield* applyRedirects(p, redirects, inChild ? undefined : saved);
      if (!inChild) yield* restoreRedirects(p, saved);
      return ok ? 0 : 1;
    }
    if (BUILTINS.has(name)) {
      if (name === 'exec') return yield* this.builtinExec(words.slice(1), assignments, redirects);
      const saved: SavedFd[] = [];
      if (!(yield* applyRedirects(p, redirects, inChild ? undefined : saved))) {
        if (!inChild) yield* restoreRedirects(p, saved);
        return 1;
      }
      const status = yield* this.builtin(name, words.slice(1));
      if (!inChild) yield* restoreRedirects(p, saved);
      return status;
    }
    if (inChild) return yield* this.execCommand(words, assignments, redirects);
    const pid = yield* fork(p, (cp) => this.clone(cp).execCommand(words, assignments, redirects));
    if (isError(pid)) {
      yield* p.stderr.print(`${p.name}: fork: ${strerror(pid)}\n`);
      return 1;
    }
    const result = yield* this.waitForeground(pid);
    return typeof result === 'number' ? 1 : shellStatus(result);
  }

  /** In a child (or for `exec`): apply redirections and execve the command; never returns on success. */
  private *execCommand(
    words: readonly string[],
    assignments: readonly { name: string; value: string }[],
    redirects: readonly ExpandedRedirect[],
  ): Call<number> {
    const p = this.p;
    if (!(yield* applyRedirects(p, redirects))) return 1;
    for (const a of assignments) p.env.set(a.name, a.value);
    const name = words[0]!;
    const err = yield* execvp(p, name, words);
    if (err === -Errno.ENOEXEC) return yield* this.runScriptFile(name, words.slice(1));
    if (err === -Errno.ENOENT) {
      yield* p.stderr.print(`${p.name}: ${name}: not found\n`);
      return STATUS_NOT_FOUND;
    }
    yield* p.stderr.print(`${p.name}: ${name}: ${strerror(err)}\n`);
    return STATUS_NOT_EXECUTABLE;
  }

  /** A file without an executable header is run as a shell script (in this child). */
  private *runScriptFile(path: string, args: readonly string[]): Call<number> {
    const text = yield* readTextFile(this.p, path);
    if (typeof text === 'number') {
      yield* this.p.stderr.print(`${this.p.name}: ${path}: ${strerror(text)}\n`);
      return STATUS_NOT_EXECUTABLE;
    }
    const script = new Shell(this.p, this.pid, path, args);
    return yield* script.runSource(text);
  }

  private *builtinExec(
    args: readonly string[],
    assignments: readonly { name: string; value: string }[],
    redirects: readonly ExpandedRedirect[],
  ): Call<number> {
    if (args.length === 0) return (yield* applyRedirects(this.p, redirects)) ? 0 : 1;
    const status = yield* this.execCommand(args, assignments, redirects);
    return yield* exit(this.p, status);
  }

  /** `trap`, `trap ACTION SIG...`, `trap SIG` (reset). */
  private *trap(args: readonly string[]): Call<number> {
    const p = this.p;
    if (args.length === 0) {
      yield* this.traps.list(p);
      return 0;
    }
    const [action, ...names] = args.length === 1 ? ['-', args[0]!] : args;
    for (const name of names) {
      const sig = trapSignal(name);
      if (sig === undefined) {
        yield* p.stderr.print(`${p.name}: trap: ${name}: bad trap\n`);
        return 1;
      }
      const result = yield* this.traps.set(p, action!, sig);
      if (isError(result)) {
        yield* p.stderr.print(`${p.name}: trap: ${name}: ${strerror(result)}\n`);
        return 1;
      }
    }
    return 0;
  }

  private *builtin(name: string, args: readonly string[]): Call<number> {
    const p = this.p;
    switch (name) {
      case ':':
        return 0;
      case 'exit': {
        const code = args[0] === undefined ? this.status : Number(args[0]);
        if (!Number.isInteger(code)) {
          yield* p.stderr.print(`${p.name}: exit: Illegal number: ${args[0]}\n`);
          return yield* exit(p, STATUS_SYNTAX);
        }
        return yield* exit(p, yield* this.finish(code));
      }
      case 'cd': {
        const target = args[0] ?? this.lookup('HOME') ?? '/';
        const dir = target === '-' ? (this.lookup('OLDPWD') ?? '.') : target;
        const result = yield* chdir(p, dir);
        if (isError(result)) {
          yield* p.stderr.print(`${p.name}: cd: can't cd to ${dir}: ${strerror(result)}\n`);
          return 1;
        }
        const cwd = yield* getcwd(p);
        const old = this.lookup('PWD');
        if (old !== undefined) this.setVar('OLDPWD', old);
        if (typeof cwd === 'string') this.setVar('PWD', cwd);
        return 0;
      }
      case 'pwd': {
        const cwd = yield* getcwd(p);
        if (typeof cwd === 'number') {
          yield* p.stderr.print(`${p.name}: pwd: ${strerror(cwd)}\n`);
          return 1;
        }
        yield* p.stdout.print(`${cwd}\n`);
        return 0;
      }
      case 'export': {
        if (args.length === 0) {
          for (const entry of p.env.toStrings()) yield* p.stdout.print(`export ${entry}\n`);
          return 0;
        }
        for (const arg of args) {
          const eq = arg.indexOf('=');
          const varName = eq < 0 ? arg : arg.slice(0, eq);
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(varName)) {
            yield* p.stderr.print(`${p.name}: export: ${arg}: bad variable name\n`);
            return 1;
          }
          const value = eq < 0 ? (this.locals.get(varName) ?? p.env.get(varName) ?? '') : arg.slice(eq + 1);
          this.locals.delete(varName);
          p.env.set(varName, value);
        }
        return 0;
      }
      case 'wait': {
        // `wait PID...` waits for those children; `wait` for every child. A trapped signal ends
        // the wait at once with 128 + the signal (its trap runs next).
        const interrupted = (): number | undefined => {
          const sig = this.traps.lastPending;
          return sig === undefined ? undefined : 128 + sig;
        };
        if (args.length === 0) {
          for (;;) {
            const result = yield* waitpid(p, -1);
            if (result === -Errno.EINTR) {
              const status = interrupted();
              if (status !== undefined) return status;
            } else if (typeof result === 'number') return 0;
          }
        }
        let status = 0;
        for (const arg of args) {
          let result = yield* waitpid(p, Number(arg));
          while (result === -Errno.EINTR) {
            const early = interrupted();
            if (early !== undefined) return early;
            result = yield* waitpid(p, Number(arg));
          }
          status = typeof result === 'number' ? 127 : shellStatus(result);
        }
        return status;
      }
      case 'trap':
        return yield* this.trap(args);
      case 'unset':
        for (const arg of args) {
          this.locals.delete(arg);
          p.env.unset(arg);
        }
        return 0;
      default:
        return 127;
    }
  }
}
