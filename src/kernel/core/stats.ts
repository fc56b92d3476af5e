/** Counters the kernel keeps (reported by `rcontainer sim --stats`). */
export interface KernelStats {
  syscalls: number;
  /** System calls by name. */
  syscallsByName: Record<string, number>;
  /** Switches of a PE from one task to another (or to idle and back). */
  contextSwitches: number;
  /** Page faults on user addresses, and how many the design served from a ready pool (fast). */
  pageFaults: number;
  pageFaultsFast: number;
  pageFaultsSlow: number;
  cowCopies: number;
  forks: number;
  execs: number;
  exits: number;
  signalsDelivered: number;
  timerTicks: number;
  preemptions: number;
}

export function emptyKernelStats(): KernelStats {
  return {
    syscalls: 0,
    syscallsByName: {},
    contextSwitches: 0,
    pageFaults: 0,
    pageFaultsFast: 0,
    pageFaultsSlow: 0,
    cowCopies: 0,
    forks: 0,
    execs: 0,
    exits: 0,
    signalsDelivered: 0,
    timerTicks: 0,
    preemptions: 0,
  };
}
