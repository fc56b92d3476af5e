/**
 * Kernel work the model charges in cycles, beyond the architectural events the PE charges itself
 * (exception entry/return, TLB misses, page walks, copies). Calibrated so that a native null
 * system call and context switch land near lmbench's figures on an N1-class machine
 * (spec/costs.md A2: null call 0.28 µs, lat_ctx 2p/0K 7.7–9.7 µs, page fault 0.18–1.6 µs).
 */
export const KernelCost = {
  /** Syscall entry/exit bookkeeping (register save, dispatch, signal check). */
  syscall: 250,
  /** Picking the next task and switching the kernel stack (schedule()). */
  schedule: 1800,
  /** Page-fault handling beyond the copy/zeroing itself (VMA lookup, accounting). */
  pageFault: 900,
  /** Process creation bookkeeping (task struct, fd table, credentials). */
  fork: 12_000,
  /** exec bookkeeping (loader, argument copying beyond the bytes themselves). */
  exec: 20_000,
  /** exit bookkeeping. */
  exit: 6000,
  /** A timer interrupt's handling. */
  tick: 400,
  /**
   * Setting up a signal handler's entry (setup_rt_frame: the frame, the registers). With the
   * rt_sigreturn call this makes lmbench's "signal handler" ≈ 1.2 µs (spec/costs.md).
   */
  signalFrame: 1500,
} as const;

/** The scheduler's time slice, in nanoseconds (Linux's sched_min_granularity order). */
export const TIME_SLICE_NS = 4_000_000;
