/**
 * The compromised kernel's device primitives (spec/attacks.md K7, K8, attack 11): it programs the
 * machine's block device through its own driver and register window, with DMA to and from any
 * physical address it names. Every DMA goes through the SMMU and is checked by the GPC against the
 * view the SMMU was given (the OS-GPT under rcontainer); what the disk holds is read back into the
 * kernel's bounce buffer and then through the kernel's linear map, like any of its own reads.
 */
import { DISK_BLOCKS_PER_CONTEXT } from '../../designs/layout.js';
import type { ProcessingElement } from '../../hw/pe.js';
import type { DiskStore } from '../../kernel/block/disk-store.js';
import type { DiskLayout } from '../../kernel/block/layout.js';
import type { KernelPrimitive, ReadOutcome } from './kernel-primitive.js';

const PAGE = 4096;
const SECTOR = 512;

/** Outcome of a DMA of a page to the disk and back into the kernel's buffer. */
export interface DmaOutcome {
  /** The driver's result for the device-reads-memory command: 0 or -errno. */
  readonly result: number;
  /** Faults the SMMU recorded as failed granule protection checks during the command. */
  readonly smmuGpcFaults: number;
  /** What the scratch sectors held afterwards, read back through the bounce buffer. */
  readonly readBack: ReadOutcome;
}

/** Block-device primitives of the compromised kernel. */
export class DiskPrimitive {
  private readonly kernel: KernelPrimitive;
  private readonly store: DiskStore;

  constructor(kernel: KernelPrimitive, store: DiskStore) {
    this.kernel = kernel;
    this.store = store;
  }

  /**
   * K7: have the device DMA the page at `pa` to a scratch block of the host's disk area (a WRITE
   * command whose buffer is `pa`), then read that block back into the bounce buffer.
   */
  dmaRead(pa: number): DmaOutcome {
    return this.kernel.onIdlePe((pe) => {
      const layout = this.layoutOn(pe);
      const scratch = layout.sectorOf(0, DISK_BLOCKS_PER_CONTEXT - 1)!;
      const count = PAGE / SECTOR;
      const bounce = this.kernel.system.platform.bounce(pe);
      const smmu = this.kernel.system.machine.smmu;
      // Start from a clean scratch block, so that anything read back came from this DMA.
      pe.fillBytes(bounce.kva, PAGE, 0);
      this.store.driver.write(pe, scratch, count, bounce.pa);
      const faultsBefore = smmu.stats.gpcFaults;
      const result = this.store.driver.write(pe, scratch, count, Math.floor(pa / PAGE) * PAGE);
      const smmuGpcFaults = smmu.stats.gpcFaults - faultsBefore;
      this.store.driver.read(pe, scratch, count, bounce.pa);
      const bytes = pe.readBytes(bounce.kva, PAGE);
      // Leave the scratch block and the bounce buffer clean.
      pe.fillBytes(bounce.kva, PAGE, 0);
      this.store.driver.write(pe, scratch, count, bounce.pa);
      const readBack: ReadOutcome =
        bytes === undefined ? { ok: false, fault: 'bounce buffer unreadable' } : { ok: true, bytes };
      return { result, smmuGpcFaults, readBack };
    });
  }

  /** K8: the raw bytes of block `block` of `owner`'s disk area (all its sectors), or the -errno. */
  readBlock(owner: number, block: number): Uint8Array | number {
    return this.kernel.onIdlePe((pe) => {
      const layout = this.layoutOn(pe);
      const sector = layout.sectorOf(owner, block);
      if (sector === undefined) return -28;
      const count = layout.sectorsPerBlock(owner);
      const bounce = this.kernel.system.platform.bounce(pe);
      const result = this.store.driver.read(pe, sector, count, bounce.pa);
      if (result < 0) return result;
      return pe.readBytes(bounce.kva, count * SECTOR) ?? -14;
    });
  }

  /** Attack 11: overwrite block `block` of `owner`'s disk area with `bytes` (its whole sectors). */
  writeBlock(owner: number, block: number, bytes: Uint8Array): number {
    return this.kernel.onIdlePe((pe) => {
      const layout = this.layoutOn(pe);
      const sector = layout.sectorOf(owner, block);
      if (sector === undefined) return -28;
      const count = layout.sectorsPerBlock(owner);
      const bounce = this.kernel.system.platform.bounce(pe);
      const padded = new Uint8Array(count * SECTOR);
      padded.set(bytes.subarray(0, padded.length));
      if (!pe.writeBytes(bounce.kva, padded)) return -14;
      return this.store.driver.write(pe, sector, count, bounce.pa);
    });
  }

  private layoutOn(pe: ProcessingElement): DiskLayout {
    const layout = this.store.probe(pe);
    if (typeof layout === 'number') throw new Error(`attack: the block device did not probe (${layout})`);
    return layout;
  }
}
