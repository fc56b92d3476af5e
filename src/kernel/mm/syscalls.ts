/**
 * Memory system calls: brk, mmap (anonymous private or shared; private file mappings), munmap,
 * mprotect, and SysV shared memory (shmget/shmat/shmdt/shmctl).
 * SIMPLIFICATION: MAP_SHARED file mappings are refused (ENODEV): writes through them would have to
 * reach the page cache, which lives in kernel pages the user cannot map under `rcontainer`.
 */
import type { TaskContext } from '../core/task-context.js';
import type { Kernel } from '../kernel.js';
import { vfsFileOf } from '../fs/vfs-file.js';
import { isRegular } from '../fs/inode.js';
import { childPathName } from '../fs/path-name.js';
import { Errno } from '../uapi/errno.js';
import { IPC, MAP, MS, O, PROT } from '../uapi/flags.js';
import { HEAP_MAX, MMAP_BOTTOM, PAGE, pageUp } from './layout.js';
import { SharedSegment } from './shared-segment.js';
import type { MappedFile } from './vma.js';

const USER_LIMIT = 2 ** 48;
const PROT_MASK = PROT.READ | PROT.WRITE | PROT.EXEC;

/** brk(addr): set the program break; returns the (new or unchanged) break. */
export function sysBrk(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const mm = ctx.task.group.mm;
  const wanted = args[0] ?? 0;
  if (wanted === 0 || wanted < mm.brkStart || wanted > mm.brkStart + HEAP_MAX) return mm.brk;
  const oldEnd = pageUp(mm.brk);
  const newEnd = pageUp(wanted);
  const env = kernel.mmEnv(ctx.pe, ctx.task.hw);
  if (newEnd > oldEnd) {
    if (mm.vmas.overlaps(oldEnd, newEnd)) return mm.brk;
    const result = mm.addVma(env, {
      start: oldEnd,
      end: newEnd,
      prot: PROT.READ | PROT.WRITE,
      shared: false,
      segment: undefined,
      file: undefined,
      fileOffset: 0,
      name: '[heap]',
    });
    if (result < 0) return mm.brk;
  } else if (newEnd < oldEnd) mm.unmap(env, newEnd, oldEnd);
  mm.brk = wanted;
  return wanted;
}

/** mmap(addr, length, prot, flags, fd, offset). */
export function sysMmap(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const [hint = 0, length = 0, protArg = 0, flagsArg = 0, fdArg = 0, offset = 0] = args;
  const prot = protArg | 0;
  const flags = flagsArg | 0;
  const fd = fdArg | 0;
  if (length <= 0 || length > USER_LIMIT || offset % PAGE !== 0 || offset < 0) return -Errno.EINVAL;
  if ((prot & ~PROT_MASK) !== 0) return -Errno.EINVAL;
  const shared = (flags & MAP.SHARED) !== 0;
  if (shared === ((flags & MAP.PRIVATE) !== 0)) return -Errno.EINVAL;
  const size = pageUp(length);
  const mm = ctx.task.group.mm;
  let start: number;
  if ((flags & MAP.FIXED) !== 0) {
    if (hint % PAGE !== 0 || hint < MMAP_BOTTOM / 2 ** 16 || hint + size > USER_LIMIT) return -Errno.EINVAL;
    start = hint;
  } else {
    const gap = mm.findGap(size);
    if (gap === undefined) return -Errno.ENOMEM;
    start = gap;
  }
  let file: MappedFile | undefined;
  let name = '';
  if ((flags & MAP.ANONYMOUS) === 0) {
    const open = ctx.task.files.get(fd);
    if (open === undefined) return -Errno.EBADF;
    const vfs = vfsFileOf(open);
    if (vfs === undefined || !isRegular(vfs.inode)) return -Errno.ENODEV;
    if ((open.flags & O.ACCMODE) === O.WRONLY) return -Errno.EACCES;
    if (shared) return -Errno.ENODEV;
    // mm/mmap.c do_mmap: a file of a noexec mount may not be mapped executable.
    const noExec = (vfs.ref.mount.flags & MS.NOEXEC) !== 0;
    if (noExec && (prot & PROT.EXEC) !== 0) return -Errno.EPERM;
    const inode = vfs.inode;
    const kernelServices = ctx.kernel;
    let holders = 0;
    name = childPathName(vfs.parent, vfs.name, ctx.task.fs.root).path;
    file = {
      path: name,
      noExec,
      page: (fileOffset) => {
        if (fileOffset >= inode.size) return undefined;
        const kva = inode.page?.(ctx, fileOffset / PAGE, false);
        if (kva === undefined) return undefined;
        const pa = kernelServices.pages.paOf(inode.sb.owner, kva);
        return pa === undefined ? undefined : { kva, pa };
      },
      retain: () => {
        if (holders++ === 0) inode.retain?.();
      },
      release: () => {
        if (--holders === 0) inode.release?.();
      },
    };
  }
  const env = kernel.mmEnv(ctx.pe, ctx.task.hw);
  if ((flags & MAP.FIXED) !== 0) mm.unmap(env, start, start + size);
  const segment = shared
    ? new SharedSegment(mm.cid, size, (frames) => freeFrames(kernel, ctx, mm.cid, frames))
    : undefined;
  const result = mm.addVma(env, {
    start,
    end: start + size,
    prot,
    shared,
    segment,
    file,
    fileOffset: offset,
    name,
  });
  if (result < 0) {
    mm.unmap(env, start, start + size);
    return -Errno.ENOMEM;
  }
  return start;
}

function freeFrames(kernel: Kernel, ctx: TaskContext, cid: number, frames: number[]): void {
  for (const pa of frames) kernel.memory.give(kernel.platform, ctx.pe, cid, pa);
}

/** munmap(addr, length). */
export function sysMunmap(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const [start = 0, length = 0] = args;
  if (start % PAGE !== 0 || length <= 0 || start + length > USER_LIMIT) return -Errno.EINVAL;
  ctx.task.group.mm.unmap(kernel.mmEnv(ctx.pe, ctx.task.hw), start, start + pageUp(length));
  return 0;
}

/** mprotect(addr, length, prot). */
export function sysMprotect(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const [start = 0, length = 0, protArg = 0] = args;
  const prot = protArg | 0;
  if (start % PAGE !== 0 || (prot & ~PROT_MASK) !== 0 || start + length > USER_LIMIT) return -Errno.EINVAL;
  if (length === 0) return 0;
  return ctx.task.group.mm.protect(kernel.mmEnv(ctx.pe, ctx.task.hw), start, start + pageUp(length), prot);
}

// ------------------------------------------------------------------ SysV shared memory

/** SysV segments of one IPC namespace (SIMPLIFICATION: one per kernel; CLONE_NEWIPC is accepted). */
interface ShmEntry {
  readonly key: number;
  readonly segment: SharedSegment;
  readonly cid: number;
  removed: boolean;
  attached: number;
}

const shmTables = new WeakMap<Kernel, Map<number, ShmEntry>>();
const SHM_MAX = 64 * 2 ** 20;

function shmTable(kernel: Kernel): Map<number, ShmEntry> {
  let table = shmTables.get(kernel);
  if (table === undefined) shmTables.set(kernel, (table = new Map()));
  return table;
}

/** shmget(key, size, flags) → id. Segments are per container: a container never sees another's. */
export function sysShmget(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const key = (args[0] ?? 0) | 0;
  const size = args[1] ?? 0;
  const flags = (args[2] ?? 0) | 0;
  const table = shmTable(kernel);
  const cid = ctx.task.cid;
  if (key !== IPC.PRIVATE) {
    for (const [id, entry] of table) {
      if (entry.key !== key || entry.removed || entry.cid !== cid) continue;
      if ((flags & IPC.CREAT) !== 0 && (flags & IPC.EXCL) !== 0) return -Errno.EEXIST;
      if (size > entry.segment.bytes) return -Errno.EINVAL;
      return id;
    }
    if ((flags & IPC.CREAT) === 0) return -Errno.ENOENT;
  }
  if (size < 1 || size > SHM_MAX) return -Errno.EINVAL;
  const id = table.size + 1 + [...table.keys()].reduce((a, b) => Math.max(a, b), 0);
  const segment = new SharedSegment(cid, pageUp(size), (frames) => freeFrames(kernel, ctx, cid, frames));
  segment.retain(); // the id holds the segment until IPC_RMID
  table.set(id, { key, segment, cid, removed: false, attached: 0 });
  return id;
}

/** shmat(id, addr, flags) → address. */
export function sysShmat(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const entry = shmTable(kernel).get((args[0] ?? 0) | 0);
  if (entry === undefined || entry.removed || entry.cid !== ctx.task.cid) return -Errno.EINVAL;
  const mm = ctx.task.group.mm;
  const size = entry.segment.bytes;
  const start = (args[1] ?? 0) !== 0 ? args[1]! : mm.findGap(size);
  if (start === undefined || start % PAGE !== 0 || mm.vmas.overlaps(start, start + size))
    return -Errno.EINVAL;
  const readOnly = ((args[2] ?? 0) & 0o10000) !== 0;
  const result = mm.addVma(kernel.mmEnv(ctx.pe, ctx.task.hw), {
    start,
    end: start + size,
    prot: readOnly ? PROT.READ : PROT.READ | PROT.WRITE,
    shared: true,
    segment: entry.segment,
    file: undefined,
    fileOffset: 0,
    name: '/SYSV',
  });
  if (result < 0) return -Errno.ENOMEM;
  entry.attached++;
  return start;
}

/** shmdt(addr). */
export function sysShmdt(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const mm = ctx.task.group.mm;
  const vma = mm.vmas.find(args[0] ?? 0);
  if (vma === undefined || vma.segment === undefined || vma.start !== args[0] || vma.name !== '/SYSV')
    return -Errno.EINVAL;
  mm.unmap(kernel.mmEnv(ctx.pe, ctx.task.hw), vma.start, vma.end);
  return 0;
}

/** shmctl(id, cmd, buf): IPC_RMID only. */
export function sysShmctl(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const table = shmTable(kernel);
  const id = (args[0] ?? 0) | 0;
  const entry = table.get(id);
  if (entry === undefined || entry.cid !== ctx.task.cid) return -Errno.EINVAL;
  if (((args[1] ?? 0) | 0) !== IPC.RMID) return -Errno.EINVAL;
  if (!entry.removed) {
    entry.removed = true;
    entry.segment.release(kernel.refs);
  }
  table.delete(id);
  return 0;
}
