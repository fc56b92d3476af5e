/**
 * Code in physical memory. Software layers are TypeScript, so "code" is a host function registered
 * at the physical address where its instructions would live. A PE runs it only after fetching that
 * address through its MMU and GPC (an instruction fetch), which is what makes vector tables, gates
 * and the trampoline subject to the same checks as data.
 */
import type { ProcessingElement } from './pe.js';

/** A block of code: runs on a PE and ends by transferring control (ERET, branch) or returning. */
export type CodeFunction = (pe: ProcessingElement) => void;

/** One registered block. */
export interface CodeBlock {
  readonly name: string;
  readonly pa: number;
  readonly run: CodeFunction;
}

/** Machine-wide registry of code by physical address. */
export class CodeRegistry {
  private readonly blocks = new Map<number, CodeBlock>();

  /** Register `run` as the code at `pa` (4-byte aligned). Re-registering an address is an error. */
  register(pa: number, name: string, run: CodeFunction): void {
    if (!Number.isSafeInteger(pa) || pa < 0 || pa % 4 !== 0)
      throw new RangeError(`code '${name}': bad address ${pa}`);
    if (this.blocks.has(pa))
      throw new RangeError(`code '${name}': address 0x${pa.toString(16)} already holds code`);
    this.blocks.set(pa, { name, pa, run });
  }

  /** Remove the code at `pa` (for loaders that replace images). */
  unregister(pa: number): void {
    this.blocks.delete(pa);
  }

  /** The code at `pa`, if any. */
  at(pa: number): CodeBlock | undefined {
    return this.blocks.get(pa);
  }
}
