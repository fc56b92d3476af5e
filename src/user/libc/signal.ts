/**
 * sigaction(2) with handlers written as coroutines: the handler's address given to the kernel is
 * a per-signal entry in the image (program.ts signalHandlerVa) and sa_restorer its rt_sigreturn
 * trampoline; the function itself stays in the process's libc state, where the CPU (the runner)
 * finds it when the kernel enters the handler.
 *
 * SIMPLIFICATION: a fork copies the handlers (as Linux does), but a handler that closes over
 * JavaScript variables of the program shares them with the child, where real memory would be
 * copied. A handler that must not act for a child should reach its state through the Proc it is
 * given (as the shell's traps do), or the child should reset it.
 */
import { TEXT_BASE } from '../../kernel/mm/layout.js';
import { SA, SIG_DFL, SIG_IGN } from '../../kernel/uapi/flags.js';
import { SIGACTION_BYTES } from '../../kernel/uapi/structs.js';
import { Sys } from '../../kernel/uapi/syscalls.js';
import { signalHandlerVa, signalRestorerVa, type ProgramRun } from '../program.js';
import type { Proc, SignalHandler } from './process.js';
import { isError, syscall, type Call } from './syscall.js';

/** What a signal does: a handler, or the default action, or nothing. */
export type SignalAction = SignalHandler | 'default' | 'ignore';

/**
 * Install `action` for `sig`. With `restart` (the default, SA_RESTART), a blocking call the handler
 * interrupts is issued again; without it, the call fails with EINTR (how a server notices a
 * shutdown signal while it waits in accept). 0 or -errno.
 */
export function* sigaction(
  p: Proc,
  sig: number,
  action: SignalAction,
  options: { restart?: boolean } = {},
): Call<number> {
  const handler =
    action === 'default' ? SIG_DFL : action === 'ignore' ? SIG_IGN : signalHandlerVa(TEXT_BASE, sig);
  const flags = SA.RESTORER | (options.restart === false ? 0 : SA.RESTART);
  const struct = new Uint8Array(SIGACTION_BYTES);
  const view = new DataView(struct.buffer);
  view.setBigUint64(0, BigInt(handler), true);
  view.setBigUint64(8, BigInt(flags), true);
  view.setBigUint64(16, BigInt(signalRestorerVa(TEXT_BASE)), true);
  const mark = p.scratch.mark();
  try {
    const act = p.scratch.bytes(p.cpu, struct);
    const result = yield* syscall(Sys.rt_sigaction, sig, act, 0, 8);
    if (isError(result)) return result;
  } finally {
    p.scratch.release(mark);
  }
  if (typeof action === 'function') p.handlers.set(sig, action);
  else p.handlers.delete(sig);
  return 0;
}

/** The coroutine of `p`'s handler for `sig` (undefined without one): the handler, then rt_sigreturn. */
export function handlerRun(p: Proc, sig: number): ProgramRun | undefined {
  const handler = p.handlers.get(sig);
  if (handler === undefined) return undefined;
  return (function* run(): ProgramRun {
    yield* handler(p, sig);
    yield* syscall(Sys.rt_sigreturn);
    throw new Error('rt_sigreturn returned into its handler');
  })();
}
