/**
 * The attack scenario's machine: boot a design, interpose the compromised kernel's bookkeeping
 * (ledger.ts), start the victim and the attacker's container (programs.ts), run until both sleep,
 * and say where the victim's secret is, as the kernel can tell without reading it: the frames
 * behind the victim's resident user pages (its Mm), the data pages the kernel holds for the
 * victim's context (page cache, pipe buffer), and the disk blocks it wrote for the victim.
 */
import { createHash } from 'node:crypto';
import { SimSystem, type DesignName } from '../../designs/system.js';
import type { ThreadGroup } from '../../kernel/core/task.js';
import { KernelPageLedger, ObservedDiskStore } from './ledger.js';
import {
  ATTACKER_PROGRAM,
  attackerProgram,
  SCENARIO_CACHE_PAGES,
  VICTIM_PROGRAM,
  victimProgram,
} from './programs.js';

const PAGE = 4096;
/** Simulated time the scenario waits at most for a phase (well past the victim's sleeps). */
const PHASE_LIMIT_NS = 2_000_000_000;
/** Steps of simulated time while waiting for a phase. */
const POLL_NS = 1_000_000;

/** A container of the scenario. */
export interface ScenarioContainer {
  readonly cid: number;
  readonly group: ThreadGroup;
}

/** A booted scenario. */
export interface Scenario {
  readonly design: DesignName;
  readonly system: SimSystem;
  readonly ledger: KernelPageLedger;
  readonly store: ObservedDiskStore;
  readonly victim: ScenarioContainer;
  readonly attacker: ScenarioContainer;
  /** The victim's API token (the secret looked for in what the attacker reads). */
  readonly token: string;
}

/** A page of the victim's, as the kernel knows it. */
export interface VictimPage {
  /** User VA (memory) or kernel VA (kernel data). */
  readonly va: number;
  readonly pa: number;
}

/** Where the victim's secret can be, as the kernel knows it. */
export interface SecretLocations {
  /** Resident pages of the victim's address space. */
  readonly userPages: readonly VictimPage[];
  /** The kernel's data pages of the victim's context (SHIM(c) under rcontainer). */
  readonly kernelPages: readonly VictimPage[];
  /** Blocks of the victim's disk, in the order they were first written. */
  readonly diskBlocks: readonly number[];
}

/** The victim's token for `seed` (deterministic, unguessable from the output). */
export function victimToken(seed: string | number): string {
  const digest = createHash('sha256')
    .update(`rcontainer attack demo ${String(seed)}`)
    .digest('hex');
  return `RC-TOKEN-${digest.slice(0, 24)}`;
}

/** Boot `design`, start the victim (container 1) and the attacker (container 2); nothing run yet. */
export function bootScenario(design: DesignName, seed: string | number): Scenario {
  const token = victimToken(seed);
  const system = new SimSystem({
    design,
    seed,
    programs: { [VICTIM_PROGRAM]: victimProgram(token), [ATTACKER_PROGRAM]: attackerProgram() },
  });
  const ledger = new KernelPageLedger(system);
  // Containers made from now on keep their files in a small page cache backed by their disk.
  const store = new ObservedDiskStore(system, { cachePages: SCENARIO_CACHE_PAGES });
  system.vfs.pageBacking = store;
  const victim = start(system, VICTIM_PROGRAM, 'vault');
  const attacker = start(system, ATTACKER_PROGRAM, 'attacker');
  return { design, system, ledger, store, victim, attacker, token };
}

function start(system: SimSystem, program: string, hostname: string): ScenarioContainer {
  const cid = system.createContainer({ hostname, argv: [program] });
  return { cid, group: system.startProcess(cid, { argv: [program] }) };
}

/**
 * Run until `done()` holds and no PE runs a task (the kernel is idle: the attacker's moment), or
 * throw after PHASE_LIMIT_NS of simulated time.
 */
export function runUntil(system: SimSystem, what: string, done: () => boolean): void {
  const limit = system.elapsedNs + PHASE_LIMIT_NS;
  // runFor counts from the latest PE clock, which stands still while every task sleeps: aim at a
  // target that moves on by POLL_NS each round instead.
  let target = system.elapsedNs;
  for (;;) {
    const idle = system.machine.pes.every((pe) => pe.el !== 0);
    if (done() && idle) return;
    if (target > limit) throw new Error(`attack scenario: '${what}' never happened`);
    target = Math.max(target, system.elapsedNs) + POLL_NS;
    const end = system.runFor(target - system.elapsedNs);
    if (end === 'idle' && !done()) throw new Error(`attack scenario: everything ended before '${what}'`);
  }
}

/** Where the victim's secret can be now (see SecretLocations). */
export function locateSecret(scenario: Scenario): SecretLocations {
  const { system, victim, ledger, store } = scenario;
  const mm = victim.group.mm;
  const userPages: VictimPage[] = [];
  for (const vma of mm.vmas.all) {
    for (let va = vma.start; va < vma.end; va += PAGE) {
      const pa = mm.frameOf(va);
      if (pa !== undefined) userPages.push({ va, pa });
    }
  }
  const kernelPages: VictimPage[] = [];
  for (const va of ledger.pagesOf(victim.cid)) {
    const pa = system.platform.pages.paOf(victim.cid, va);
    if (pa !== undefined) kernelPages.push({ va, pa });
  }
  return { userPages, kernelPages, diskBlocks: store.blocksWrittenBy(victim.cid) };
}

/** True when `needle`'s bytes occur in `haystack`. */
export function containsText(haystack: Uint8Array, needle: string): boolean {
  const bytes = new TextEncoder().encode(needle);
  outer: for (let i = 0; i + bytes.length <= haystack.length; i++) {
    for (let j = 0; j < bytes.length; j++) if (haystack[i + j] !== bytes[j]) continue outer;
    return true;
  }
  return false;
}
