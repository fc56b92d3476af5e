/** The user address-space layout the kernel gives every process (48-bit VAs, 4 KiB pages). */

export const PAGE = 4096;
/** Where executables are mapped (their entry point is the first byte: the program header). */
export const TEXT_BASE = 0x40_0000;
/** Largest executable image the loader maps. */
export const TEXT_MAX = 0x100_0000;
/** Start of the brk heap (randomisation is not modelled: layouts are deterministic). */
export const HEAP_BASE = 0x1000_0000;
/** Largest heap. */
export const HEAP_MAX = 0x4000_0000;
/** Top of the stack and its fixed size. */
export const STACK_TOP = 0x7fff_f000_0000;
export const STACK_BYTES = 8 * 2 ** 20;
/** mmap areas are placed top-down below this address. */
export const MMAP_TOP = STACK_TOP - STACK_BYTES - 0x1000_0000;
/** Lowest address mmap places areas at. */
export const MMAP_BOTTOM = 0x1_0000_0000;

/** Round down / up to a page. */
export function pageDown(va: number): number {
  return Math.floor(va / PAGE) * PAGE;
}
export function pageUp(va: number): number {
  return Math.ceil(va / PAGE) * PAGE;
}
