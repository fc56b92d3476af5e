/**
 * How EL0 software is written (DESIGN.md §7). A program is a coroutine: a generator that runs on a
 * PE at EL0, touches its memory only through the {@link UserCpu} (every load and store goes through
 * the MMU and GPC of the PE it currently runs on), declares its computation in cycles, and yields a
 * system call request each time it executes `SVC #0`; it is resumed with the result register x0.
 *
 * An executable file names its program: its first bytes are `\x7fRCX <name>\n` (see
 * {@link executableImage}); the kernel maps the file at the text address and the CPU "decodes" the
 * program name from memory at the entry point.
 */

/** A system call: number (x8) and up to six arguments (x0..x5). */
export interface SyscallRequest {
  readonly nr: number;
  readonly args: readonly number[];
  /**
   * For clone: the code the child runs (it starts with clone returning 0 in it). The runner passes
   * a token in the TLS argument (CLONE_SETTLS) to find it again in the new thread.
   */
  readonly child?: () => ProgramRun;
}

/** A running program: yields system calls, is resumed with their results, returns its exit code. */
export type ProgramRun = Generator<SyscallRequest, number, number>;

/** The EL0 view of the CPU a program runs on. Failed accesses end the thread (it was killed). */
export interface UserCpu {
  load8(va: number): number;
  load32(va: number): number;
  load64(va: number): number;
  store8(va: number, value: number): void;
  store32(va: number, value: number): void;
  store64(va: number, value: number): void;
  readBytes(va: number, length: number): Uint8Array;
  writeBytes(va: number, data: Uint8Array): void;
  fillBytes(va: number, length: number, value: number): void;
  /** Declare `cycles` of computation. */
  compute(cycles: number): void;
}

/** A program's entry: gets the CPU and the initial registers (x0 = argc, x1 = argv, x2 = envp). */
export type ProgramMain = (cpu: UserCpu, argc: number, argv: number, envp: number) => ProgramRun;

/**
 * Magic of an executable: `\x7fRCX ` then the program name and a newline (like ELF's `\x7fELF`, so
 * that it is neither text nor a `#!` script).
 */
export const EXECUTABLE_MAGIC = '\x7fRCX ';
/** Longest program name. */
export const MAX_PROGRAM_NAME = 64;

/** The bytes of an executable file for program `name` (a header followed by `padding` bytes). */
export function executableImage(name: string, padding = 0): Uint8Array {
  const header = new TextEncoder().encode(`${EXECUTABLE_MAGIC}${name}\n`);
  const out = new Uint8Array(header.length + padding);
  out.set(header);
  return out;
}

/** The program name in an executable's first bytes, or undefined if it is not one. */
export function parseExecutable(bytes: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(bytes.subarray(0, EXECUTABLE_MAGIC.length + MAX_PROGRAM_NAME + 1));
  if (!text.startsWith(EXECUTABLE_MAGIC)) return undefined;
  const end = text.indexOf('\n');
  if (end <= EXECUTABLE_MAGIC.length) return undefined;
  const name = text.slice(EXECUTABLE_MAGIC.length, end);
  return /^[a-z0-9][a-z0-9._-]*$/i.test(name) ? name : undefined;
}

/** The registry of programs by name. */
export class ProgramRegistry {
  private readonly programs = new Map<string, ProgramMain>();

  register(name: string, main: ProgramMain): void {
    if (this.programs.has(name)) throw new Error(`program '${name}' registered twice`);
    this.programs.set(name, main);
  }

  get(name: string): ProgramMain | undefined {
    return this.programs.get(name);
  }

  names(): string[] {
    return [...this.programs.keys()].sort();
  }
}

/**
 * A program's signal handlers as the CPU finds them: for a thread's coroutine, the coroutine of its
 * handler for a signal (undefined when it installed none). The kernel enters a handler by setting
 * the PC to the handler's address ({@link signalHandlerVa}) with the signal in x0; on real hardware
 * the CPU would fetch the handler's code there, here the runner asks the thread's program for the
 * coroutine that runs it. A handler's coroutine ends in rt_sigreturn.
 */
const signalHandlerRuns = new WeakMap<ProgramRun, (sig: number) => ProgramRun | undefined>();

/** Give `run` (a thread's coroutine) the way to its signal handlers; returns `run`. */
export function withSignalHandlers(
  run: ProgramRun,
  handlerRun: (sig: number) => ProgramRun | undefined,
): ProgramRun {
  signalHandlerRuns.set(run, handlerRun);
  return run;
}

/** The coroutine of the handler for `sig` of the thread running `run`, if it has one. */
export function signalHandlerRun(run: ProgramRun, sig: number): ProgramRun | undefined {
  return signalHandlerRuns.get(run)?.(sig);
}

/** Offset in an image of its signal handlers' entry addresses (one per signal, 8 bytes apart). */
const HANDLER_OFFSET = 0x200;
/** Offset in an image of its rt_sigreturn trampoline (sa_restorer). */
const RESTORER_OFFSET = 0x100;

/** The address a program gives as sa_handler for `sig`: in its image, at `textBase`. */
export function signalHandlerVa(textBase: number, sig: number): number {
  return textBase + HANDLER_OFFSET + sig * 8;
}

/** The address a program gives as sa_restorer. */
export function signalRestorerVa(textBase: number): number {
  return textBase + RESTORER_OFFSET;
}
