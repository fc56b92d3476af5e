/**
 * How the mini-OS touches physical memory: through a PE's load/store path at EL1 under the
 * Priv-GPT, using its linear map of DRAM (VA = linearBase + PA). Nothing here bypasses the MMU or
 * the GPC: a mini-OS bug that reaches a Root granule faults like any other access.
 */
import type { ProcessingElement } from '../hw/pe.js';

/** Physical-memory access for the mini-OS. All methods return false on a fault. */
export interface PhysPort {
  read32(pa: number): number;
  write32(pa: number, value: number): boolean;
  write64(pa: number, low: number, high: number): boolean;
  readBytes(pa: number, length: number): Uint8Array | undefined;
  writeBytes(pa: number, data: Uint8Array): boolean;
  fill(pa: number, length: number, value: number): boolean;
}

/** A PhysPort over a PE running the mini-OS, with DRAM mapped at `linearBase` (a VA number). */
export class LinearMapPort implements PhysPort {
  pe: ProcessingElement;
  private readonly linearBase: number;

  constructor(pe: ProcessingElement, linearBase: number) {
    this.pe = pe;
    this.linearBase = linearBase;
  }

  read32(pa: number): number {
    return this.pe.load32(this.linearBase + pa);
  }

  write32(pa: number, value: number): boolean {
    return this.pe.store32(this.linearBase + pa, value);
  }

  write64(pa: number, low: number, high: number): boolean {
    return this.pe.store64(this.linearBase + pa, low, high);
  }

  readBytes(pa: number, length: number): Uint8Array | undefined {
    return this.pe.readBytes(this.linearBase + pa, length);
  }

  writeBytes(pa: number, data: Uint8Array): boolean {
    return this.pe.writeBytes(this.linearBase + pa, data);
  }

  fill(pa: number, length: number, value: number): boolean {
    return this.pe.fillBytes(this.linearBase + pa, length, value);
  }
}
