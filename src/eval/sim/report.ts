/**
 * What `rcontainer sim --stats` reports about a run: simulated time and the event counters of the
 * kernel, the machine and (under rcontainer) the firmware and the mini-OS.
 */
import { Ev } from '../../hw/cost.js';
import type { SimSystem } from '../../designs/system.js';
import { RcontainerPlatform } from '../../designs/rcontainer.js';

/** Counters of one run. */
export interface SimStats {
  readonly design: string;
  readonly cpus: number;
  /** Simulated time: the latest PE clock, nanoseconds. */
  readonly simulatedNs: number;
  readonly syscalls: number;
  readonly syscallsByName: Readonly<Record<string, number>>;
  readonly contextSwitches: number;
  readonly preemptions: number;
  readonly pageFaults: { readonly total: number; readonly fast: number; readonly slow: number };
  readonly cowCopies: number;
  readonly forks: number;
  readonly execs: number;
  readonly smcs: number;
  /** GPTBR_EL3 switches by the EL3 service (two per gate round trip). */
  readonly gptSwitches: number;
  readonly tlbFlushes: {
    readonly paall: number;
    readonly rpa: number;
    readonly va: number;
    readonly asid: number;
    readonly all: number;
  };
  readonly exceptions: { readonly toEl1: number; readonly toEl3: number };
  /** rc_* calls by name (empty under native). */
  readonly rcCalls: Readonly<Record<string, number>>;
}

/** Collect the counters of `system`. */
export function collectStats(system: SimSystem): SimStats {
  const pes = system.machine.pes;
  const sum = (ev: number): number => pes.reduce((total, pe) => total + pe.counters[ev]!, 0);
  const k = system.kernel.stats;
  const platform = system.platform;
  const smc = platform instanceof RcontainerPlatform ? platform.firmware.smc.stats.byName : {};
  return {
    design: platform.design,
    cpus: pes.length,
    simulatedNs: system.elapsedNs,
    syscalls: k.syscalls,
    syscallsByName: sortKeys(k.syscallsByName),
    contextSwitches: k.contextSwitches,
    preemptions: k.preemptions,
    pageFaults: { total: k.pageFaults, fast: k.pageFaultsFast, slow: k.pageFaultsSlow },
    cowCopies: k.cowCopies,
    forks: k.forks,
    execs: k.execs,
    smcs: sum(Ev.Smc),
    gptSwitches: (smc.RC_ENTER_MINIOS ?? 0) + (smc.RC_LEAVE_MINIOS ?? 0),
    tlbFlushes: {
      paall: sum(Ev.TlbiPaall),
      rpa: sum(Ev.TlbiRpa),
      va: sum(Ev.TlbiVa),
      asid: sum(Ev.TlbiAsid),
      all: sum(Ev.TlbiAll),
    },
    exceptions: { toEl1: sum(Ev.ExceptionToEl1), toEl3: sum(Ev.ExceptionToEl3) },
    rcCalls: platform instanceof RcontainerPlatform ? sortKeys(platform.callCounts()) : {},
  };
}

function sortKeys(record: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** The report as text lines. */
export function formatStats(stats: SimStats): string[] {
  const lines = [
    `design ${stats.design}, ${stats.cpus} cpu(s), simulated time ${(stats.simulatedNs / 1000).toFixed(1)} us`,
    `syscalls ${stats.syscalls}, context switches ${stats.contextSwitches} (preemptions ${stats.preemptions})`,
    `page faults ${stats.pageFaults.total} (fast ${stats.pageFaults.fast}, slow ${stats.pageFaults.slow}), copy-on-write copies ${stats.cowCopies}`,
    `forks ${stats.forks}, execs ${stats.execs}`,
    `SMCs ${stats.smcs}, GPT switches ${stats.gptSwitches}, exceptions to EL1 ${stats.exceptions.toEl1} / EL3 ${stats.exceptions.toEl3}`,
    `TLB flushes: PAALL ${stats.tlbFlushes.paall}, RPA ${stats.tlbFlushes.rpa}, VA ${stats.tlbFlushes.va}, ASID ${stats.tlbFlushes.asid}, ALL ${stats.tlbFlushes.all}`,
    `syscalls by name: ${Object.entries(stats.syscallsByName)
      .map(([n, c]) => `${n} ${c}`)
      .join(', ')}`,
  ];
  const rc = Object.entries(stats.rcCalls);
  if (rc.length > 0) lines.push(`rc_* calls: ${rc.map(([n, c]) => `${n} ${c}`).join(', ')}`);
  return lines;
}
