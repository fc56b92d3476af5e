/**
 * The kernel's virtual layout, the same under every design: its text (where its exception entries
 * are registered as code) and its linear map of the kernel memory zone, both in the TTBR1 range.
 */

/** Kernel text: the first 2 MiB of the kernel image, mapped executable at EL1 only. */
export const KERNEL_TEXT_VA = -(2 ** 48);
/** Linear map: PA x of the kernel zone is at KERNEL_LINEAR_VA + x. */
export const KERNEL_LINEAR_VA = -(2 ** 48) + 2 ** 40;
/** The block device's register window (devices/block.ts), mapped EL1 read/write, never executable. */
export const KERNEL_BLOCK_DEVICE_VA = -(2 ** 48) + 2 ** 41;
/** The SMMU's Non-secure register page 0 (SMMU_CR0, SMMU_GBPA ...), mapped like the block device. */
export const KERNEL_SMMU_VA = KERNEL_BLOCK_DEVICE_VA + 0x1000;
/** Blocks of every context's disk (16 MiB). */
export const DISK_BLOCKS_PER_CONTEXT = 4096;
/** Offsets of the kernel's code in its image. */
export const KernelCode = {
  /** Native: the kernel's own vector table (VBAR_EL1), 2 KiB aligned. */
  vectors: 0x800,
  /** rcontainer: the entries registered with rc_set_kernel_entry. */
  syscall: 0x1000,
  fault: 0x1080,
  irq: 0x1100,
  /** Where a kernel access to user memory resumes after a fault it cannot fix (EFAULT). */
  fixup: 0x1180,
} as const;
/** SPSR_EL1 of a return to EL0t with IRQs unmasked. */
export const SPSR_EL0T = 0;
