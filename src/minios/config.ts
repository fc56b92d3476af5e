/**
 * Parameters of the mini-OS: where it lives, its linear map, and per-container limits.
 */
import { z } from 'zod';

/** Schema with documented defaults. */
export const miniOsParamsSchema = z.object({
  /** VA of the linear map of DRAM (TTBR1 range; a negative number is a 0xFFFF... address). */
  linearBase: z
    .number()
    .int()
    .default(-(2 ** 47)),
  /**
   * Granules of a new con-shim: the record page, the I/O record page, eight task-context pages,
   * then syscall stacks and per-container globals (containers.ts ShimPage).
   */
  shimGranules: z.number().int().min(16).max(4096).default(16),
  /**
   * Largest number of granules one container may own: CTR + PT + SHIM, the last counting the
   * con-shim, the kernel's data pages and the record and context pages the mini-OS adds
   * (containers.ts ownedGranuleCount).
   */
  containerQuota: z
    .number()
    .int()
    .min(16)
    .default(1 << 20),
  /** Largest number of containers alive at once. */
  maxContainers: z.number().int().min(1).max(65535).default(4096),
  /**
   * Skip the TLBI after GPT edits and the flush on GPT switches, as the public prototype did. Only
   * for demonstrating that flaw; never on by default.
   */
  skipTlbMaintenance: z.boolean().default(false),
});

/** Mini-OS parameters as given. */
export type MiniOsParamsInput = z.input<typeof miniOsParamsSchema>;
/** Mini-OS parameters after validation. */
export type MiniOsParams = z.output<typeof miniOsParamsSchema>;
