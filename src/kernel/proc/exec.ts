/**
 * execve: replace the program of the calling task (or start the first program of a new task).
 * The new image gets a fresh address space from the platform (rc_task_exec under `rcontainer`,
 * which checks the binary's digest against the container's measured image), a text mapping of
 * the executable, a stack whose top page holds argv and envp, and starts at the image's first byte.
 */
import type { SysCtx } from '../core/ctx.js';
import { KernelCost } from '../core/costs.js';
import type { Task } from '../core/task.js';
import { ARG_BLOCK_VA, EXEC_DONE, type UserStart } from '../hooks.js';
import type { Kernel } from '../kernel.js';
import { PAGE, STACK_BYTES, STACK_TOP, TEXT_BASE, pageUp } from '../mm/layout.js';
import { Mm } from '../mm/mm.js';
import { Errno } from '../uapi/errno.js';
import { PROT, SIG_IGN, SIG_DFL } from '../uapi/flags.js';
import { findExecutable, imageDigest, mappedImage, scriptInterpreter } from './exec-image.js';

/** Largest argv + envp: the strings and their pointers must fit the argument page. */
const ARG_PAGE = 4096;
/** Magic of the model's executables (user/program.ts EXECUTABLE_MAGIC). */
const RCX_MAGIC = [0x7f, 0x52, 0x43, 0x58, 0x20];

/**
 * The argument page (ARG_BLOCK_VA): argc, the argv pointer and the envp pointer (u64 each), then the
 * two NULL-terminated pointer arrays, then the strings.
 */
function buildArgumentPage(argv: readonly string[], envp: readonly string[]): Uint8Array | number {
  const page = new Uint8Array(ARG_PAGE);
  const view = new DataView(page.buffer);
  const encoder = new TextEncoder();
  const strings = [...argv, ...envp].map((s) => encoder.encode(s));
  const arrays = 24;
  let at = arrays + 8 * (argv.length + envp.length + 2);
  const pointers: number[] = [];
  for (const bytes of strings) {
    if (at + bytes.length + 1 > ARG_PAGE) return -Errno.E2BIG;
    page.set(bytes, at);
    pointers.push(ARG_BLOCK_VA + at);
    at += bytes.length + 1;
  }
  const put = (offset: number, value: number): void => view.setBigUint64(offset, BigInt(value), true);
  put(0, argv.length);
  put(8, ARG_BLOCK_VA + arrays);
  put(16, ARG_BLOCK_VA + arrays + 8 * (argv.length + 1));
  pointers.slice(0, argv.length).forEach((p, i) => put(arrays + 8 * i, p));
  pointers.slice(argv.length).forEach((p, i) => put(arrays + 8 * (argv.length + 1 + i), p));
  return page;
}

/** Read a NULL-terminated array of string pointers from user memory. */
function readStringArray(ctx: SysCtx, va: number): string[] | number {
  const out: string[] = [];
  if (va === 0) return out;
  let total = 0;
  for (let i = 0; ; i++) {
    const pointer = ctx.readU64(va + 8 * i);
    if (pointer === undefined) return -Errno.EFAULT;
    if (pointer === 0) return out;
    const s = ctx.readString(pointer, ARG_PAGE);
    if (typeof s === 'number') return s === -Errno.ENAMETOOLONG ? -Errno.E2BIG : s;
    total += s.length + 9;
    if (total > ARG_PAGE) return -Errno.E2BIG;
    out.push(s);
  }
}

/**
 * Load `path` into `task` with `argv`/`envp`: called from the task's own execve (the task runs on
 * `ctx.pe`) or for a task that has never run. Returns the start registers or -errno; before the
 * point of no return nothing of the task has changed.
 */
export function loadProgram(
  kernel: Kernel,
  ctx: SysCtx,
  task: Task,
  path: string,
  argv: readonly string[],
  envp: readonly string[],
): UserStart | number {
  let file = findExecutable(ctx, path);
  if (typeof file === 'number') return file;
  let args = argv;
  const interpreter = scriptInterpreter(file.header);
  if (interpreter !== undefined) {
    const script = file.path;
    file = findExecutable(ctx, interpreter[0]!);
    if (typeof file === 'number') return file === -Errno.ENOENT ? -Errno.ENOENT : file;
    if (scriptInterpreter(file.header) !== undefined) return -Errno.ELOOP;
    args = [interpreter[0]!, ...interpreter.slice(1), script, ...argv.slice(1)];
  }
  if (!RCX_MAGIC.every((byte, i) => file.header[i] === byte)) return -Errno.ENOEXEC;
  const digest = imageDigest(ctx, file);
  if (typeof digest === 'number') return digest;
  const built = buildArgumentPage(args, envp);
  if (typeof built === 'number') return built;
  const argPage = kernel.pages.alloc(ctx.pe, 0);
  if (argPage === undefined) return -Errno.ENOMEM;
  try {
    if (!ctx.kwrite(argPage, built)) return -Errno.EFAULT;
    const argPagePa = kernel.pages.paOf(0, argPage)!;
    ctx.charge(KernelCost.exec);
    // Pages still shared with another holder must outlive the old space (Mm.detachShared); if
    // the exec is refused below they simply fault back in.
    if (task.group.mm.users === 1) task.group.mm.detachShared(kernel.mmEnv(ctx.pe, task.hw));
    // The platform checks the binary (measuredOnly policy) before anything changes.
    const execResult = kernel.platform.taskExec(ctx.pe, task.hw, digest, TEXT_BASE);
    if (execResult < 0) return execResult === -1 ? -Errno.EACCES : execResult;
    // Point of no return: the old address space is gone.
    const group = task.group;
    const oldMm = group.mm;
    oldMm.users--;
    if (oldMm.users === 0) oldMm.release(kernel.mmEnv(ctx.pe, task.hw));
    const mm = new Mm(group.cid);
    group.mm = mm;
    const env = kernel.mmEnv(ctx.pe, task.hw);
    const text = mappedImage(ctx, file);
    const failures = [
      mm.addVma(env, {
        start: TEXT_BASE,
        end: TEXT_BASE + Math.max(PAGE, pageUp(file.size)),
        prot: PROT.READ | PROT.EXEC,
        shared: false,
        segment: undefined,
        file: text,
        fileOffset: 0,
        name: file.path,
      }),
      mm.addVma(env, {
        start: STACK_TOP - STACK_BYTES,
        end: STACK_TOP,
        prot: PROT.READ | PROT.WRITE,
        shared: false,
        segment: undefined,
        file: undefined,
        fileOffset: 0,
        name: '[stack]',
      }),
      mm.installPage(env, ARG_BLOCK_VA, PROT.READ | PROT.WRITE, { pa: argPagePa, kva: argPage }),
    ].filter((r) => r < 0);
    const comm = file.path.slice(file.path.lastIndexOf('/') + 1).slice(0, 15);
    group.comm = comm;
    group.exePath = file.path;
    task.files.closeOnExec(ctx);
    // Caught signals revert to the default action; ignored ones stay ignored.
    group.dispositions.forEach((value, sig) => {
      if (value !== SIG_IGN) group.dispositions[sig] = SIG_DFL;
    });
    group.sigFlags.fill(0);
    group.sigRestorers.fill(0);
    task.signalFrame = undefined;
    kernel.stats.execs++;
    // A failure after the point of no return kills the task, as Linux's execve does.
    if (failures.length > 0) group.pendingSignals |= 1 << 9;
    return { pc: TEXT_BASE };
  } finally {
    kernel.pages.free(0, argPage);
  }
}

/** execve(path, argv, envp). */
export function sysExecve(kernel: Kernel, ctx: SysCtx & { task: Task }, args: readonly number[]): number {
  const path = ctx.readString(args[0] ?? 0, 4096);
  if (typeof path === 'number') return path;
  const argv = readStringArray(ctx, args[1] ?? 0);
  if (typeof argv === 'number') return argv;
  const envp = readStringArray(ctx, args[2] ?? 0);
  if (typeof envp === 'number') return envp;
  const task = ctx.task;
  if (task.group.threads.size > 1) return -Errno.EBUSY; // SIMPLIFICATION: no de_thread()
  const start = loadProgram(kernel, ctx, task, path, argv, envp);
  if (typeof start === 'number') return start;
  kernel.setExecStart(ctx.pe, start);
  return EXEC_DONE;
}
