/**
 * What the compromised kernel knows about a victim without reading its memory: which of its own
 * data pages it handed to each context (pipe and socket buffers, page cache) and which disk blocks
 * it wrote for each context, in order. A real kernel keeps exactly this bookkeeping; the model's
 * kernel keeps it in private objects, so the attacker records it as it happens, by interposing on
 * the page allocator (KernelPages) and on the block layer (DiskStore.writeBlock). Addresses and
 * block numbers only: never contents.
 */
import type { SimSystem } from '../../designs/system.js';
import type { ProcessingElement } from '../../hw/pe.js';
import { DiskStore, type DiskStoreOptions } from '../../kernel/block/disk-store.js';

/** Kernel data pages in use per owning context (kernel VAs). */
export class KernelPageLedger {
  private readonly live = new Map<number, Set<number>>();

  /** Interpose on `system`'s kernel page allocator (once, right after boot). */
  constructor(system: SimSystem) {
    const pages = system.platform.pages;
    const alloc = pages.alloc.bind(pages);
    const free = pages.free.bind(pages);
    pages.alloc = (pe, owner) => {
      const va = alloc(pe, owner);
      if (va !== undefined) this.setOf(owner).add(va);
      return va;
    };
    pages.free = (owner, va) => {
      this.live.get(owner)?.delete(va);
      free(owner, va);
    };
  }

  /** Kernel VAs of the data pages `owner` holds now, in address order. */
  pagesOf(owner: number): number[] {
    return [...(this.live.get(owner) ?? [])].sort((a, b) => a - b);
  }

  private setOf(owner: number): Set<number> {
    let set = this.live.get(owner);
    if (set === undefined) {
      set = new Set();
      this.live.set(owner, set);
    }
    return set;
  }
}

/** A DiskStore whose writes the kernel remembers: (owner, block) in the order they were made. */
export class ObservedDiskStore extends DiskStore {
  readonly writes: { readonly owner: number; readonly block: number }[] = [];

  constructor(system: SimSystem, options: DiskStoreOptions = {}) {
    super(system.platform, options);
  }

  override writeBlock(pe: ProcessingElement, owner: number, block: number, kva: number): number {
    const result = super.writeBlock(pe, owner, block, kva);
    if (result === 0) this.writes.push({ owner, block });
    return result;
  }

  /** Distinct blocks `owner` has written, in the order of their first write. */
  blocksWrittenBy(owner: number): number[] {
    const out: number[] = [];
    for (const w of this.writes) if (w.owner === owner && !out.includes(w.block)) out.push(w.block);
    return out;
  }
}
