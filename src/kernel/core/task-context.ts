/**
 * The SysCtx of a system call on one PE: user memory is reached through the PE at EL1 with the
 * task's TTBR0 (as copy_from_user/copy_to_user do), so every access is translated and checked by
 * the MMU and GPC, and a fault on a user address is handled (demand paging) or becomes EFAULT.
 */
import type { ProcessingElement } from '../../hw/pe.js';
import { Errno } from '../uapi/errno.js';
import type { KernelServices, SysCtx } from './ctx.js';
import type { Task } from './task.js';
import type { WaitQueue } from './wait.js';

/** Lowest kernel (TTBR1) address: user pointers must be below the user limit. */
const USER_LIMIT = 2 ** 48;
/** Bytes moved per PE block transfer between user and kernel memory. */
const CHUNK = 4096;

/** Does [va, va + length) lie in the user range? */
function userRange(va: number, length: number): boolean {
  return Number.isSafeInteger(va) && va >= 0 && length >= 0 && va + length <= USER_LIMIT;
}

/** A system call's context on one PE (reused for every call on that PE). */
export class TaskContext implements SysCtx {
  readonly pe: ProcessingElement;
  readonly kernel: KernelServices;
  task!: Task;
  /** Ticks the kernel charges (its own bookkeeping: cycles spent by the call). */
  private readonly chargeFn: (pe: ProcessingElement, cycles: number) => void;
  private readonly nowFn: (pe: ProcessingElement) => number;
  private readonly parkFn: (task: Task, queue: WaitQueue) => number;

  constructor(
    pe: ProcessingElement,
    kernel: KernelServices,
    hooks: {
      charge: (pe: ProcessingElement, cycles: number) => void;
      now: (pe: ProcessingElement) => number;
      park: (task: Task, queue: WaitQueue) => number;
    },
  ) {
    this.pe = pe;
    this.kernel = kernel;
    this.chargeFn = hooks.charge;
    this.nowFn = hooks.now;
    this.parkFn = hooks.park;
  }

  copyIn(va: number, length: number): Uint8Array | undefined {
    if (!userRange(va, length)) return undefined;
    if (length === 0) return new Uint8Array(0);
    return this.pe.readBytes(va, length);
  }

  copyOut(va: number, data: Uint8Array): boolean {
    if (!userRange(va, data.length)) return false;
    return data.length === 0 || this.pe.writeBytes(va, data);
  }

  readString(va: number, max = 4096): string | number {
    if (!userRange(va, 1)) return -Errno.EFAULT;
    const bytes: number[] = [];
    for (let at = va; ;) {
      // Read up to the end of the page at a time: the next page may be unmapped.
      const chunk = Math.min(4096 - (at % 4096), max + 1 - bytes.length);
      const data = this.copyIn(at, chunk);
      if (data === undefined) return -Errno.EFAULT;
      const nul = data.indexOf(0);
      const take = nul >= 0 ? nul : data.length;
      for (let i = 0; i < take; i++) bytes.push(data[i]!);
      if (nul >= 0) break;
      if (bytes.length > max) return -Errno.ENAMETOOLONG;
      at += chunk;
    }
    if (bytes.length > max) return -Errno.ENAMETOOLONG;
    return new TextDecoder().decode(new Uint8Array(bytes));
  }

  readU32(va: number): number | undefined {
    if (!userRange(va, 4)) return undefined;
    const value = this.pe.load32(va);
    return this.pe.lastFault === 0 ? value : undefined;
  }

  readU64(va: number): number | undefined {
    if (!userRange(va, 8)) return undefined;
    const value = this.pe.load64(va);
    return this.pe.lastFault === 0 ? value : undefined;
  }

  writeU32(va: number, value: number): boolean {
    return userRange(va, 4) && this.pe.store32(va, value >>> 0);
  }

  writeU64(va: number, value: number): boolean {
    if (!userRange(va, 8)) return false;
    const low = ((value % 2 ** 32) + 2 ** 32) % 2 ** 32;
    const high = Math.floor(value / 2 ** 32);
    return this.pe.store64(va, low >>> 0, high >>> 0);
  }

  kread(kva: number, length: number): Uint8Array | undefined {
    return this.pe.readBytes(kva, length);
  }

  kwrite(kva: number, data: Uint8Array): boolean {
    return this.pe.writeBytes(kva, data);
  }

  userToKernel(va: number, kva: number, length: number): boolean {
    if (!userRange(va, length)) return false;
    for (let done = 0; done < length; done += CHUNK) {
      const n = Math.min(CHUNK, length - done);
      const data = this.pe.readBytes(va + done, n);
      if (data === undefined || !this.pe.writeBytes(kva + done, data)) return false;
    }
    return true;
  }

  kernelToUser(kva: number, va: number, length: number): boolean {
    if (!userRange(va, length)) return false;
    for (let done = 0; done < length; done += CHUNK) {
      const n = Math.min(CHUNK, length - done);
      const data = this.pe.readBytes(kva + done, n);
      if (data === undefined || !this.pe.writeBytes(va + done, data)) return false;
    }
    return true;
  }

  sleep(queue: WaitQueue): number {
    return this.parkFn(this.task, queue);
  }

  now(): number {
    return this.nowFn(this.pe);
  }

  charge(cycles: number): void {
    this.chargeFn(this.pe, cycles);
  }
}
