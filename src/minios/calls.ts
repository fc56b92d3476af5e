/**
 * The rc_* calls the mini-OS implements, each validating every argument (overflow-safe, copied
 * before checking) and either fully succeeding or changing nothing (spec/rcontainer.md).
 * A call number without a handler here is refused as unknown (EINVAL).
 */
import { createHash } from 'node:crypto';
import type { ProcessingElement } from '../hw/pe.js';
import {
  ExecPolicy,
  MAX_CONTAINER_ID,
  MallocKind,
  Owner,
  RcCall,
  RcError,
  SHIM_WINDOW_KERNEL_SLOT,
  SHIM_WINDOW_SLOTS,
} from './abi.js';
import {
  CONTEXT_BYTES,
  ownedGranuleCount,
  SHIM_MAGIC,
  ShimPage,
  ShimRecord,
  type ContainerRecord,
  type TaskRecord,
} from './containers.js';
import { SPSR_EL0, SPSR_EL1H_MASKED } from './el3.js';
import { containerWindow, TRAMPOLINE_VA, TrampolineCode } from './trampoline.js';
import {
  contextLocation,
  contextVa,
  contextWindowSlots,
  initialFreeSlots,
  releaseTaskSlots,
  reserveTaskSlots,
  returnHeapPage,
  takeHeapPage,
  takeTaskSlots,
  taskSlotPa,
} from './task-table.js';
import type { MiniOs } from './minios.js';
import type { LinearMapPort } from './port.js';
import { IO_CALLS, forgetIo } from './calls-io.js';
import {
  MEMORY_CALLS,
  TASK_SLOT_SPACE_ID_OFFSET,
  forgetMemory,
  loadTaskSpace,
  osMappings,
  prepareCloneSpace,
  prepareExecSpace,
  releaseTaskSpace,
  spaceBusyElsewhere,
  taskSpaceId,
  unloadTaskSpace,
} from './calls-memory.js';

/** Who is calling and through what. */
export interface CallContext {
  readonly minios: MiniOs;
  readonly pe: ProcessingElement;
  readonly port: LinearMapPort;
  /** GPT view the caller ran under (from EL3). */
  readonly callerView: number;
}

/** Result of a call, and where to leave to when it is not the caller (with its vector base). */
export interface CallOutcome {
  readonly result: number;
  /** Return to the caller in the OS context (OS-GPT, trampoline vectors) instead of its view. */
  readonly toOsContext?: boolean;
  readonly leaveTo?: { view: number; pc: number; spsr: number; vectors?: number };
}

/** A call handler: the context and the six argument registers x2..x7 (already copied). */
export type CallHandler = (context: CallContext, args: readonly number[]) => CallOutcome;

const MAX_MALLOC_GRANULES = 1 << 16;
const MAX_CONFIG_BYTES = 1 << 16;
const MAX_IMAGE_BINARIES = 4096;

/** A refusal. */
export function refuse(result: RcError): CallOutcome {
  return { result };
}

/** A container id in range. */
export function isCid(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1 && value <= MAX_CONTAINER_ID;
}

/** Run call `call` with the (already copied) argument registers. */
export function dispatchCall(context: CallContext, call: number, args: readonly number[]): CallOutcome {
  const [a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0] = args;
  switch (call) {
    case RcCall.CreateShim:
      return createShim(context, a0);
    case RcCall.DestroyShim:
      return destroyShim(context, a0);
    case RcCall.CreateContainer:
      return createContainer(context, a0, a1, a2, a3, a4);
    case RcCall.DestroyContainer:
      return destroyContainer(context, a0);
    case RcCall.MallocMm:
      return mallocMm(context, a0, a1, a2, a3);
    case RcCall.TaskClone:
      return taskClone(context, a0, a1, a2, a3, args[4] ?? 0);
    case RcCall.TaskExec:
      return taskExec(context, a0, a1, a2, a3, a4);
    case RcCall.TaskExit:
      return taskExit(context, a0, a1);
    case RcCall.SwitchToDepriv:
      return switchToDepriv(context, a0, a1);
    case RcCall.SetKernelEntry:
      return setKernelEntry(context, a0, a1, a2);
    case RcCall.SwitchToMiniOs:
      // The gate always lands on the mini-OS's fixed entry; reason 1 also saves a task context.
      return switchToMiniOs(context, a0, a1, a2, a3);
    default: {
      const handler = MEMORY_CALLS[call] ?? IO_CALLS[call];
      return handler === undefined ? refuse(RcError.EINVAL) : handler(context, args);
    }
  }
}

/** Drop every per-container record the call modules keep (the container's shim is going away). */
function forgetContainer(minios: MiniOs, cid: number): void {
  forgetMemory(minios, cid);
  forgetIo(minios, cid);
}

/** rc_create_shim(cid): SHIM(c) from MINI memory, shim-GPT(c), the shim record. */
function createShim({ minios, pe, port }: CallContext, cid: number): CallOutcome {
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  if (minios.containers.has(cid)) return refuse(RcError.EBUSY);
  if (minios.containers.size >= minios.params.maxContainers) return refuse(RcError.ENOMEM);
  const own = minios.ownership;
  const blocks: number[] = [];
  const release = (): void => blocks.forEach((pa) => minios.heap.freeBlock(pa, 4096));
  for (let i = 0; i < minios.params.shimGranules; i++) {
    const pa = minios.heap.allocate(4096);
    if (pa === undefined) {
      release();
      return refuse(RcError.ENOMEM);
    }
    blocks.push(pa);
  }
  const view = minios.views.createView(cid);
  if (view === undefined) {
    release();
    return refuse(RcError.ENOMEM);
  }
  const indices = blocks.map((pa) => own.indexOf(pa));
  for (const index of indices) minios.scrub(port, index);
  if (!minios.transfer(pe, indices, Owner.Shim, cid)) {
    minios.views.dropView(cid);
    release();
    return refuse(RcError.ENOMEM);
  }
  const record: ContainerRecord = {
    cid,
    view,
    shim: indices,
    bound: false,
    imageDigest: undefined,
    configDigest: undefined,
    policy: undefined,
    measuredBinaries: new Set(),
    tasks: new Map(),
    nextTid: 1,
    ctr: new Set(),
    pt: new Set(),
    shimFromOs: new Set(),
    nextWindowSlot: SHIM_WINDOW_KERNEL_SLOT,
    contextPages: [],
    taskPages: [],
    windowTables: [],
    ...initialFreeSlots(),
  };
  const shimPas = indices.map((index) => own.paOf(index));
  if (!minios.trampoline.mapContainer(port, cid, shimPas)) {
    minios.trampoline.unmapContainer(port, cid);
    for (const index of indices) minios.scrub(port, index);
    minios.transfer(pe, indices, Owner.Mini, 0);
    minios.views.dropView(cid);
    release();
    return refuse(RcError.ENOMEM);
  }
  minios.trampoline.registerConShim(minios.host, cid, shimPas[ShimPage.vectors]!);
  const page = shimPas[0]!;
  port.write32(page + ShimRecord.magic, SHIM_MAGIC);
  port.write32(page + ShimRecord.cid, cid);
  minios.containers.set(cid, record);
  return { result: 0 };
}

/**
 * rc_destroy_shim(cid): refused while the container is bound, has tasks or still owns CTR/PT
 * memory (rc_destroy_container first). SHIM granules go back where they came from, scrubbed: the
 * kernel's data pages to the OS; the con-shim, the memory records and the extra task-record and
 * context pages to the mini-OS heap.
 */
function destroyShim({ minios, pe, port }: CallContext, cid: number): CallOutcome {
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined) return refuse(RcError.ENOENT);
  if (record.tasks.size > 0 || record.bound || record.ctr.size > 0 || record.pt.size > 0)
    return refuse(RcError.EBUSY);
  // The kernel's window onto the shim goes first, then every cached translation of it.
  minios.trampoline.unmapContainer(port, cid);
  minios.trampoline.unregisterConShim(minios.host, minios.ownership.paOf(record.shim[ShimPage.vectors]!));
  const mapped = [
    ...Array.from({ length: ShimPage.mapped }, (_, slot) => slot),
    ...contextWindowSlots(record),
    ...Array.from(
      { length: record.nextWindowSlot - SHIM_WINDOW_KERNEL_SLOT },
      (_, i) => SHIM_WINDOW_KERNEL_SLOT + i,
    ),
  ];
  for (const slot of mapped) pe.tlbi('VAAE1IS', containerWindow(cid) + slot * 4096);
  const fromOs = [...record.shimFromOs];
  const fromHeap = [...record.shim, ...record.contextPages, ...record.taskPages, ...record.windowTables];
  for (const index of [...fromHeap, ...fromOs]) minios.scrub(port, index);
  if (!minios.transfer(pe, fromOs, Owner.Os, 0)) return refuse(RcError.ENOMEM);
  record.shimFromOs.clear();
  if (!minios.transfer(pe, fromHeap, Owner.Mini, 0)) return refuse(RcError.ENOMEM);
  for (const index of fromHeap) minios.heap.freeBlock(minios.ownership.paOf(index), 4096);
  record.contextPages.length = 0;
  record.taskPages.length = 0;
  record.windowTables.length = 0;
  minios.views.dropView(cid);
  minios.containers.delete(cid);
  forgetContainer(minios, cid);
  return { result: 0 };
}

/**
 * Copy `length` bytes of OS memory at `pa` into the mini-OS, refusing anything that is not
 * entirely OS-owned DRAM (so the kernel cannot make the mini-OS read its own or a container's
 * memory for it).
 */
export function copyFromOs(
  minios: MiniOs,
  port: LinearMapPort,
  pa: number,
  length: number,
): Uint8Array | undefined {
  if (
    !Number.isSafeInteger(pa) ||
    !Number.isSafeInteger(length) ||
    pa < 0 ||
    length < 0 ||
    pa + length > 2 ** 52
  ) {
    return undefined;
  }
  for (let at = pa - (pa % 4096); at < pa + length; at += 4096) {
    if (minios.ownership.kindAt(at) !== Owner.Os) return undefined;
  }
  return length === 0 ? new Uint8Array(0) : port.readBytes(pa, length);
}

/**
 * rc_create_container(cid, imageListPa, configPa, configLength, policy): the mini-OS measures the
 * image's binary list (u32 count, then count SHA-256 digests) and the config itself, binds both
 * digests and the exec policy to the container and writes them into its shim record.
 */
function createContainer(
  { minios, port }: CallContext,
  cid: number,
  imageListPa: number,
  configPa: number,
  configLength: number,
  policy: number,
): CallOutcome {
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined) return refuse(RcError.ENOENT);
  if (record.bound) return refuse(RcError.EBUSY);
  if (policy !== ExecPolicy.MeasuredOnly && policy !== ExecPolicy.Allow && policy !== ExecPolicy.Deny) {
    return refuse(RcError.EINVAL);
  }
  if (!Number.isSafeInteger(configLength) || configLength < 0 || configLength > MAX_CONFIG_BYTES) {
    return refuse(RcError.EINVAL);
  }
  const header = copyFromOs(minios, port, imageListPa, 4);
  if (header === undefined) return refuse(RcError.EPERM);
  const count = new DataView(header.buffer).getUint32(0, true);
  if (count > MAX_IMAGE_BINARIES) return refuse(RcError.EINVAL);
  const list = copyFromOs(minios, port, imageListPa, 4 + 32 * count);
  const config = copyFromOs(minios, port, configPa, configLength);
  if (list === undefined || config === undefined) return refuse(RcError.EPERM);
  // Measure the copies, never the kernel's memory again (no double fetch).
  const imageDigest = new Uint8Array(createHash('sha256').update(list).digest());
  const configDigest = new Uint8Array(createHash('sha256').update(config).digest());
  const binaries = new Set<string>();
  for (let i = 0; i < count; i++)
    binaries.add(Buffer.from(list.subarray(4 + 32 * i, 36 + 32 * i)).toString('hex'));
  const page = minios.ownership.paOf(record.shim[0]!);
  port.writeBytes(page + ShimRecord.imageDigest, imageDigest);
  port.writeBytes(page + ShimRecord.configDigest, configDigest);
  port.write32(page + ShimRecord.policy, policy);
  port.write32(page + ShimRecord.bound, 1);
  record.bound = true;
  record.imageDigest = imageDigest;
  record.configDigest = configDigest;
  record.policy = policy as ExecPolicy;
  for (const binary of binaries) record.measuredBinaries.add(binary);
  return { result: 0 };
}

/** rc_destroy_container(cid): scrub CTR(c) and PT(c) and give them back to the OS. */
function destroyContainer({ minios, pe, port }: CallContext, cid: number): CallOutcome {
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined || !record.bound) return refuse(RcError.ENOENT);
  if (record.tasks.size > 0) return refuse(RcError.EBUSY);
  const granules = [...record.ctr, ...record.pt];
  for (const index of granules) minios.scrub(port, index);
  if (!minios.transfer(pe, granules, Owner.Os, 0)) return refuse(RcError.ENOMEM);
  record.ctr.clear();
  record.pt.clear();
  record.bound = false;
  record.measuredBinaries.clear();
  port.write32(minios.ownership.paOf(record.shim[0]!) + ShimRecord.bound, 0);
  return { result: 0 };
}

/**
 * rc_malloc_mm(cid, pa, count, kind): move `count` OS granules starting at `pa` into CTR/PT/SHIM(c):
 * scrub, edit the GPT views, invalidate GPT information for the range.
 */
function mallocMm(context: CallContext, cid: number, pa: number, count: number, kind: number): CallOutcome {
  const { minios, pe, port } = context;
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined) return refuse(RcError.ENOENT);
  if (kind !== MallocKind.Ctr && kind !== MallocKind.Pt && kind !== MallocKind.Shim)
    return refuse(RcError.EINVAL);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_MALLOC_GRANULES) return refuse(RcError.EINVAL);
  if (!Number.isSafeInteger(pa) || pa < 0 || pa % 4096 !== 0 || pa + count * 4096 > 2 ** 52)
    return refuse(RcError.EINVAL);
  const own = minios.ownership;
  const indices: number[] = [];
  for (let i = 0; i < count; i++) {
    const index = own.indexOf(pa + i * 4096);
    if (index < 0 || own.kindOf(index) !== Owner.Os) return refuse(RcError.EPERM);
    // A page the kernel can still write, or a host process maps, must not become container
    // memory, a page table or shim.
    if (osMappings(minios, pa + i * 4096) > 0) return refuse(RcError.EBUSY);
    indices.push(index);
  }
  if (ownedGranuleCount(record) + count > minios.params.containerQuota) return refuse(RcError.ENOMEM);
  // Kernel data (Shim) goes into the container's window: refuse before anything changes if it is
  // full, or if a level-3 table it needs cannot be had.
  const firstSlot = record.nextWindowSlot;
  if (kind === MallocKind.Shim) {
    if (firstSlot + count > SHIM_WINDOW_SLOTS) return refuse(RcError.ENOMEM);
    if (!growWindow(context, record, Math.floor((firstSlot + count - 1) / 512)))
      return refuse(RcError.ENOMEM);
  }
  for (const index of indices) minios.scrub(port, index);
  if (!minios.transfer(pe, indices, kind as Owner, cid)) return refuse(RcError.ENOMEM);
  const set = kind === MallocKind.Pt ? record.pt : kind === MallocKind.Ctr ? record.ctr : record.shimFromOs;
  for (const index of indices) set.add(index);
  if (kind !== MallocKind.Shim) return { result: 0 };
  indices.forEach((index, i) => {
    const slot = firstSlot + i;
    const chunk = Math.floor(slot / 512);
    const table = chunk === 0 ? record.shim[ShimPage.windowTable]! : record.windowTables[chunk - 1]!;
    minios.trampoline.mapKernelData(port, minios.ownership.paOf(table), slot, minios.ownership.paOf(index));
  });
  record.nextWindowSlot = firstSlot + count;
  return { result: firstSlot };
}

/**
 * Give container `record`'s window level-3 tables up to 2 MiB chunk `lastChunk` (SHIM(c) pages from
 * the mini-OS heap, linked under the window's L2 entries). False, with nothing added, if the heap
 * or the quota runs out.
 */
function growWindow(context: CallContext, record: ContainerRecord, lastChunk: number): boolean {
  const added: number[] = [];
  while (record.windowTables.length < lastChunk) {
    const chunk = record.windowTables.length + 1;
    const table = takeHeapPage(context, record);
    const linked =
      table !== undefined &&
      context.minios.trampoline.linkWindowTable(
        context.port,
        record.cid,
        chunk,
        context.minios.ownership.paOf(table),
      );
    if (!linked) {
      if (table !== undefined) returnHeapPage(context, table);
      for (const index of added.reverse()) {
        record.windowTables.pop();
        returnHeapPage(context, index);
      }
      return false;
    }
    record.windowTables.push(table);
    added.push(table);
  }
  return true;
}

/**
 * Write task `task`'s record into its slot of the task table (task-table.ts), or zero slot `slot`
 * (task undefined), and the number of live tasks into the record page.
 */
function writeTaskSlot(
  minios: MiniOs,
  port: LinearMapPort,
  record: ContainerRecord,
  slot: number,
  task: TaskRecord | undefined,
): void {
  const at = taskSlotPa(minios, record, slot);
  port.write32(minios.ownership.paOf(record.shim[0]!) + ShimRecord.taskCount, record.tasks.size);
  if (task === undefined) {
    port.fill(at, ShimRecord.taskSlotBytes, 0);
    return;
  }
  port.write32(at, task.tid);
  port.write32(at + 4, task.parent);
  port.write64(at + 8, (task.savedPc % 2 ** 32) >>> 0, Math.floor(task.savedPc / 2 ** 32) >>> 0);
  port.write32(at + 16, task.savedSpsr);
  port.write32(at + TASK_SLOT_SPACE_ID_OFFSET, taskSpaceId(minios, record, task.tid));
  if (task.binary !== undefined) port.writeBytes(at + 32, Buffer.from(task.binary, 'hex'));
}

/**
 * rc_task_clone(cid, parent, root, flags): a new task record (parent 0 = the container's first
 * task) and its address space: the parent's (flags CloneFlag.Vm), a new one rooted at the PT(c)
 * page `root` with copies of the parent's VMAs, or none yet (root 0). See abi.ts.
 */
function taskClone(
  context: CallContext,
  cid: number,
  parent: number,
  root: number,
  flags: number,
  framePa: number,
): CallOutcome {
  const { minios, port } = context;
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined || !record.bound) return refuse(RcError.ENOENT);
  if (parent !== 0 && !record.tasks.has(parent)) return refuse(RcError.EPERM);
  // The child starts as a copy of the parent's trapped frame with x0 = 0 (clone returns 0 in it).
  const frame = framePa === 0 ? undefined : readShimFrame(minios, port, record, framePa);
  if (typeof frame === 'number') return refuse(frame);
  if (parent === 0 && record.tasks.size > 0) return refuse(RcError.EPERM);
  // A task with a parent but no trapped frame is one the OS makes enter the running container
  // from outside (`exec`): policy deny refuses it (attacks.md Q1).
  if (parent !== 0 && frame === undefined && record.policy === ExecPolicy.Deny) return refuse(RcError.EPERM);
  // A record slot and a context for the child (MAX_TASKS_PER_CONTAINER, mini-OS memory, quota).
  const undoReserve = reserveTaskSlots(context, record);
  if (typeof undoReserve === 'number') return refuse(undoReserve);
  const attachSpace = prepareCloneSpace(context, record, parent, root, flags);
  if (typeof attachSpace === 'number') {
    undoReserve();
    return refuse(attachSpace);
  }
  const { slot, context: contextNumber } = takeTaskSlots(record);
  const contextPa = contextLocation(minios, record, contextNumber).pa;
  const tid = record.nextTid++;
  const task: TaskRecord = {
    tid,
    parent,
    slot,
    context: contextNumber,
    binary: parent === 0 ? undefined : record.tasks.get(parent)!.binary,
    savedPc: frame?.pc ?? 0,
    savedSpsr: frame?.spsr ?? SPSR_EL0,
    contextPa,
    runningOn: undefined,
  };
  port.fill(contextPa, CONTEXT_BYTES, 0);
  if (frame !== undefined) port.writeBytes(contextPa + 8, frame.bytes.subarray(8));
  record.tasks.set(tid, task);
  attachSpace(tid);
  writeTaskSlot(minios, port, record, slot, task);
  return { result: tid };
}

/**
 * rc_task_exec(cid, tid, digestPa, entryPc, root): check the binary against the exec policy, give
 * the task a new address space rooted at the PT(c) page `root` (0: none; the old one is dropped)
 * and record the EL0 entry point the task resumes at. EBUSY when the old space would go while
 * another PE's TTBR0_EL1 still holds it.
 */
function taskExec(
  context: CallContext,
  cid: number,
  tid: number,
  digestPa: number,
  entryPc: number,
  root: number,
): CallOutcome {
  const { minios, port } = context;
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  // The entry point must be a user (TTBR0) address.
  if (!Number.isSafeInteger(entryPc) || entryPc < 0 || entryPc >= 2 ** 48) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined || !record.bound) return refuse(RcError.ENOENT);
  const task = record.tasks.get(tid);
  if (task === undefined) return refuse(RcError.ENOENT);
  const digest = copyFromOs(minios, port, digestPa, 32);
  if (digest === undefined) return refuse(RcError.EPERM);
  const hex = Buffer.from(digest).toString('hex');
  // Allow: any binary; measuredOnly and deny: only the measured image's (deny differs in what
  // may enter from outside, taskClone).
  const allowed = record.policy === ExecPolicy.Allow || record.measuredBinaries.has(hex);
  if (!allowed) return refuse(RcError.EPERM);
  const replaceSpace = prepareExecSpace(context, record, tid, root);
  if (typeof replaceSpace === 'number') return refuse(replaceSpace);
  replaceSpace();
  task.binary = hex;
  task.savedPc = entryPc;
  task.savedSpsr = SPSR_EL0;
  // A fresh context: zero registers, resume at the entry point at EL0.
  port.fill(task.contextPa, CONTEXT_BYTES, 0);
  port.write64(task.contextPa + 31 * 8, (entryPc % 2 ** 32) >>> 0, Math.floor(entryPc / 2 ** 32) >>> 0);
  port.write64(task.contextPa + 32 * 8, SPSR_EL0, 0);
  writeTaskSlot(minios, port, record, task.slot, task);
  // A task that execs from its own system call runs on with its new address space.
  if (task.runningOn === context.pe.id && root !== 0) loadTaskSpace(context, cid, tid);
  return { result: 0 };
}

/**
 * rc_task_exit(cid, tid): remove the task record; the last task of an address space takes it down,
 * scrubbing its private memory and its tables first. EBUSY while the task runs, or while its
 * space (of which it is the last task) is still in another PE's TTBR0_EL1.
 */
function taskExit(context: CallContext, cid: number, tid: number): CallOutcome {
  const { minios, port } = context;
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined) return refuse(RcError.ENOENT);
  const task = record.tasks.get(tid);
  if (task === undefined) return refuse(RcError.ENOENT);
  // A task still running on a PE must be stopped (its context saved) before it can exit.
  if (task.runningOn !== undefined) return refuse(RcError.EBUSY);
  // Nor may its address space go while another PE's TTBR0_EL1 still holds it.
  if (spaceBusyElsewhere(context, record, tid)) return refuse(RcError.EBUSY);
  releaseTaskSpace(context, record, tid);
  port.fill(task.contextPa, CONTEXT_BYTES, 0);
  record.tasks.delete(tid);
  writeTaskSlot(minios, port, record, task.slot, undefined);
  releaseTaskSlots(record, task.slot, task.context);
  return { result: 0 };
}

/**
 * rc_switch_to_depriv(cid, tid): enter task `tid` of container `cid`: its validated address space in
 * TTBR0_EL1, the con-shim's vectors in VBAR_EL1, then EL3 switches to shim-GPT(cid) and returns to
 * the trampoline's restore stub, which reloads the task's registers from its context in SHIM(c)
 * (read through the container's window) and ERETs to EL0.
 */
function switchToDepriv(context: CallContext, cid: number, tid: number): CallOutcome {
  const { minios, pe } = context;
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined || !record.bound) return refuse(RcError.ENOENT);
  const task = record.tasks.get(tid);
  if (task === undefined || task.binary === undefined) return refuse(RcError.EPERM);
  if (task.runningOn !== undefined && task.runningOn !== pe.id) return refuse(RcError.EBUSY);
  // The task runs on the address space the mini-OS validated: only the mini-OS writes TTBR0_EL1.
  if (!loadTaskSpace(context, cid, tid)) return refuse(RcError.EPERM);
  task.runningOn = pe.id;
  return {
    result: contextVa(minios, record, task.context),
    leaveTo: {
      view: record.view,
      pc: TRAMPOLINE_VA + TrampolineCode.restore,
      spsr: SPSR_EL1H_MASKED,
      vectors: minios.trampoline.vectorsVa(cid),
    },
  };
}

/**
 * rc_set_kernel_entry(syscallVa, faultVa, irqVa): where the trampoline and the con-shims forward
 * exceptions. Kernel (TTBR1) addresses only, from the OS context, once.
 */
function setKernelEntry(
  { minios, callerView }: CallContext,
  syscall: number,
  fault: number,
  irq: number,
): CallOutcome {
  if (callerView !== minios.views.osL0) return refuse(RcError.EPERM);
  for (const va of [syscall, fault, irq]) {
    if (!Number.isSafeInteger(va) || va >= 0 || va < -(2 ** 48) || va % 4 !== 0)
      return refuse(RcError.EINVAL);
  }
  return minios.trampoline.setKernelEntries({ syscall, fault, irq }) ? { result: 0 } : refuse(RcError.EBUSY);
}

/**
 * Read the EL0 context frame (CONTEXT_BYTES: x0..x30, PC, SPSR) a con-shim entry pushed at
 * `framePa`: it must lie in one of the con-shim's syscall stack pages (never a page the mini-OS
 * keeps for itself: records, contexts, the window table, the vectors), and resume at EL0t below
 * 2^48 (a forged frame must not make a task resume at EL1).
 */
function readShimFrame(
  minios: MiniOs,
  port: LinearMapPort,
  record: ContainerRecord,
  framePa: number,
): { bytes: Uint8Array; pc: number; spsr: number } | RcError {
  if (!Number.isSafeInteger(framePa) || framePa < 0 || framePa % 8 !== 0) return RcError.EINVAL;
  if (Math.floor(framePa / 4096) !== Math.floor((framePa + CONTEXT_BYTES - 1) / 4096)) return RcError.EINVAL;
  const index = minios.ownership.indexOf(framePa);
  const stacks = record.shim.slice(ShimPage.firstStack, ShimPage.mapped);
  if (
    index < 0 ||
    minios.ownership.kindOf(index) !== Owner.Shim ||
    minios.ownership.containerOf(index) !== record.cid ||
    !stacks.includes(index)
  ) {
    return RcError.EPERM;
  }
  const bytes = port.readBytes(framePa, CONTEXT_BYTES);
  if (bytes === undefined) return RcError.EPERM;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pc = Number(view.getBigUint64(31 * 8, true) & ((1n << 53n) - 1n));
  const spsr = Number(view.getBigUint64(32 * 8, true) & 0xffff_ffffn);
  if ((spsr & 0x1f) !== 0 || pc >= 2 ** 48) return RcError.EINVAL;
  return { bytes, pc, spsr };
}

/**
 * rc_switch_to_miniOS(reason, cid, tid, framePa): the gate itself. Reason 0 only enters. Reason 1
 * (save) copies the EL0 context frame the con-shim entry pushed on its syscall stack — 33 words:
 * x0..x30, PC, SPSR, at `framePa` inside SHIM(c) — into the task's context slot, and marks the
 * task stopped so that it can be switched to again or exit.
 */
function switchToMiniOs(
  context: CallContext,
  reason: number,
  cid: number,
  tid: number,
  framePa: number,
): CallOutcome {
  const { minios, port, pe } = context;
  if (reason === 0) return { result: 0 };
  if (reason !== 1 || !isCid(cid)) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined) return refuse(RcError.ENOENT);
  const task = record.tasks.get(tid);
  if (task === undefined) return refuse(RcError.ENOENT);
  if (task.runningOn !== pe.id) return refuse(RcError.EPERM);
  const frame = readShimFrame(minios, port, record, framePa);
  if (typeof frame === 'number') return refuse(frame);
  if (!port.writeBytes(task.contextPa, frame.bytes)) return refuse(RcError.EPERM);
  task.savedPc = frame.pc;
  task.savedSpsr = frame.spsr;
  task.runningOn = undefined;
  writeTaskSlot(minios, port, record, task.slot, task);
  // The container no longer runs here: the caller continues in the OS context, with no container
  // tree left in this PE's TTBR0_EL1 (calls-memory.ts header).
  unloadTaskSpace(context);
  return { result: 0, toOsContext: true };
}
