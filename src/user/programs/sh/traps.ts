/**
 * The shell's `trap`: commands run when a signal arrives (or, for EXIT, when the shell ends).
 *
 * The handler only notes the signal; the shell runs the trap's command between commands, as POSIX
 * shells do, so a foreground command is waited for first (its wait4 is simply issued again), while
 * the `wait` builtin returns at once with 128 + the signal. Handlers are installed without
 * SA_RESTART for that reason. A subshell (a forked child still running shell code) has its own
 * shell state and no traps: there the signal takes its default action, as POSIX resets caught
 * traps in subshells.
 */
import { SIG } from '../../../kernel/uapi/flags.js';
import type { Proc } from '../../libc/process.js';
import { sigaction } from '../../libc/signal.js';
import type { Call } from '../../libc/syscall.js';
import { getpid, kill } from '../../libc/sys-proc.js';

/** Signal numbers by the names `trap` takes (with or without SIG; EXIT is 0). */
const SIGNALS: Readonly<Record<string, number>> = {
  EXIT: 0,
  HUP: SIG.HUP,
  INT: SIG.INT,
  QUIT: SIG.QUIT,
  USR1: SIG.USR1,
  USR2: SIG.USR2,
  ALRM: SIG.ALRM,
  TERM: SIG.TERM,
  CHLD: SIG.CHLD,
  PIPE: SIG.PIPE,
};

/** The signal a `trap` operand names (a name or a number), or undefined. */
export function trapSignal(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return Object.values(SIGNALS).includes(n) ? n : undefined;
  }
  return SIGNALS[text.toUpperCase().replace(/^SIG/, '')];
}

/** The name `trap` prints for a signal. */
function signalName(sig: number): string {
  return Object.entries(SIGNALS).find(([, n]) => n === sig)?.[0] ?? String(sig);
}

/** Which Traps belong to the shell running on a libc state (its own, never a parent's). */
const owners = new WeakMap<Proc, Traps>();

/** The traps of one shell process. */
export class Traps {
  /** Command per signal ('' = ignored). */
  private readonly commands = new Map<number, string>();
  /** Signals that arrived and whose trap has not run yet, in order. */
  private readonly pending: number[] = [];

  constructor(p: Proc) {
    owners.set(p, this);
  }

  /** True when a trapped signal waits for its command. */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** The last pending signal (what `wait` reports as 128 + it), if any. */
  get lastPending(): number | undefined {
    return this.pending[this.pending.length - 1];
  }

  /** Take the commands of the signals that arrived, in order. */
  takePending(): string[] {
    const commands = this.pending.map((sig) => this.commands.get(sig)).filter((c) => c !== undefined);
    this.pending.length = 0;
    return commands;
  }

  /** The EXIT trap's command (taken once). */
  takeExit(): string | undefined {
    const command = this.commands.get(0);
    this.commands.delete(0);
    return command;
  }

  /** `trap ACTION SIG...`: '-' resets, '' ignores, anything else is the command. 0 or -errno. */
  *set(p: Proc, action: string, sig: number): Call<number> {
    if (action === '-') this.commands.delete(sig);
    else this.commands.set(sig, action);
    if (sig === 0) return 0;
    if (action === '-') return yield* sigaction(p, sig, 'default');
    if (action === '') return yield* sigaction(p, sig, 'ignore');
    return yield* sigaction(p, sig, onSignal, { restart: false });
  }

  /** `trap` alone: the traps set, as commands that would set them again. */
  *list(p: Proc): Call<void> {
    for (const [sig, command] of this.commands)
      yield* p.stdout.print(`trap -- '${command.replace(/'/g, `'\\''`)}' ${signalName(sig)}\n`);
  }

  /** The handler saw `sig`: note it if this shell traps it. */
  note(sig: number): boolean {
    if (!this.commands.has(sig)) return false;
    this.pending.push(sig);
    return true;
  }
}

/** The handler of every trapped signal. */
function* onSignal(q: Proc, sig: number): Call<void> {
  if (owners.get(q)?.note(sig) === true) return;
  // A subshell: no trap here, so the signal's default action (terminate).
  yield* sigaction(q, sig, 'default');
  yield* kill(yield* getpid(), sig);
}
