/**
 * The attempts of the compromised kernel against the victim (spec/attacks.md T-K K1-K8 and attack
 * 11), each executed through the machine by kernel-primitive.ts and disk-primitive.ts, and judged
 * by what came back: the victim's token in the bytes the attacker got, the attacker's register
 * value in place, or the victim accepting data the attacker forged.
 *
 * Phase 1 runs while both containers sleep; the K4 remap, the tampered block and the rollback are
 * judged after the victim and the attacker's process have run again.
 */
import type { NativeTask } from '../../designs/native.js';
import type { RcTask } from '../../designs/rcontainer.js';
import { bigToHalves, hex, vaToU64 } from '../../hw/bits.js';
import { rcResultName } from '../../minios/abi.js';
import { DiskPrimitive } from './disk-primitive.js';
import { ATTACK_KVA, KernelPrimitive, type ReadOutcome } from './kernel-primitive.js';
import { ATTACKER_BUFFER_VA } from './programs.js';
import { containsText, type Scenario, type SecretLocations, type VictimPage } from './victim.js';

const PAGE = 4096;

/** What an attempt was aimed at. */
export type AttackTarget = 'memory' | 'con-shim' | 'disk';

/** The mechanism of an attempt that was not stopped. */
export const NOT_STOPPED = 'none';

/** One attempt and its outcome under one design. */
export interface AttemptResult {
  /** Short id (M1, S2, D3...), the same under every design. */
  readonly id: string;
  readonly name: string;
  readonly target: AttackTarget;
  /**
   * The attack reached its goal: the victim's token was in what the attacker read (reads), the
   * attacker's value took effect (system registers), or the victim consumed the attacker's data
   * without noticing (disk tampering and rollback).
   */
  readonly obtained: boolean;
  /** What stopped it (a fault, a refusal, sealing), or NOT_STOPPED. */
  readonly mechanism: string;
  /** One line on what happened. */
  readonly detail: string;
}

/** Attempts judged later: they need the victim (or the attacker's process) to run first. */
interface Pending {
  readonly remap: { readonly result: number };
  /** The device write's result; reads refused as tampered (EBADMSG) before it. */
  readonly tamper: { readonly written: number; readonly refusedBefore: number };
  /** The older block, the device write's result; reads refused as stale (ESTALE) before it. */
  rollback: { readonly snapshot: Uint8Array | number; written: number; refusedBefore: number };
}

/** The compromised kernel's campaign against the victim of a scenario. */
export class AttackCampaign {
  private readonly scenario: Scenario;
  private readonly kernel: KernelPrimitive;
  private readonly disk: DiskPrimitive;
  private readonly results: AttemptResult[] = [];
  private pending: Pending | undefined;

  constructor(scenario: Scenario) {
    this.scenario = scenario;
    this.kernel = new KernelPrimitive(scenario.system);
    this.disk = new DiskPrimitive(this.kernel, scenario.store);
  }

  /** Phase 1 (both containers asleep): every read, the remap, the tampering, the snapshot. */
  phase1(where: SecretLocations): void {
    const heap = this.heapPage(where);
    this.memory(where, heap);
    this.conShim(where);
    this.diskReads(where);
    const [vault, balance] = where.diskBlocks;
    const cid = this.scenario.victim.cid;
    const attackerTask = [...this.scenario.attacker.group.threads][0];
    if (vault === undefined || balance === undefined || attackerTask === undefined)
      throw new Error('attack scenario: the victim or the attacker is not where expected');
    const remap = { result: this.kernel.mapIntoTask(attackerTask.hw, ATTACKER_BUFFER_VA, heap.pa) };
    const refusedBefore = this.scenario.store.stats.refusedTampered;
    const block = this.disk.readBlock(cid, vault);
    let written = typeof block === 'number' ? block : -1;
    if (typeof block !== 'number') {
      block[100]! ^= 0x01; // one bit of the victim's vault, flipped on the device
      written = this.disk.writeBlock(cid, vault, block);
    }
    const snapshot = this.disk.readBlock(cid, balance);
    this.pending = {
      remap,
      tamper: { written, refusedBefore },
      rollback: { snapshot, written: -1, refusedBefore: 0 },
    };
  }

  /** Phase 2 (the victim updated its balance): put the old version of the block back. */
  phase2(where: SecretLocations): void {
    const pending = this.pending!;
    const balance = where.diskBlocks[1]!;
    const snapshot = pending.rollback.snapshot;
    pending.rollback = {
      snapshot,
      refusedBefore: this.scenario.store.stats.refusedStale,
      written:
        typeof snapshot === 'number'
          ? snapshot
          : this.disk.writeBlock(this.scenario.victim.cid, balance, snapshot),
    };
  }

  /** After the victim's last phase (once): judge the pending attempts; every result, in a fixed order. */
  finish(output: string): AttemptResult[] {
    const pending = this.pending!;
    const attackerSaw = /attacker: my buffer holds: (.*)/.exec(output)?.[1] ?? 'nothing (it did not report)';
    const remapped = pending.remap.result;
    this.add('M4', 'memory', "map its heap page into the attacker's process", {
      obtained: attackerSaw.includes(this.scenario.token),
      mechanism: remapped < 0 ? `rc_set_pte refused: ${rcResultName(remapped)}` : undefined,
      detail: `the kernel's remap: ${remapped < 0 ? rcResultName(remapped) : 'done'}; the attacker's buffer then held: ${excerpt(attackerSaw, this.scenario.token)}`,
    });
    const vault = /kv-vault: read \/vault\.db: (.*)/.exec(output)?.[1] ?? 'no report';
    const stale = /kv-vault: read \/balance\.db: (.*)/.exec(output)?.[1] ?? 'no report';
    const stats = this.scenario.store.stats;
    this.add('D2', 'disk', 'flip one bit of its /vault.db block', {
      obtained: vault === 'CORRUPTED',
      mechanism:
        stats.refusedTampered > pending.tamper.refusedBefore ? 'rc_open_block refused: EBADMSG' : undefined,
      detail: `${written(pending.tamper.written)}; the victim then read /vault.db: ${vault}`,
    });
    this.add('D3', 'disk', 'put back the older version of its /balance.db block', {
      obtained: stale === 'STALE',
      mechanism:
        stats.refusedStale > pending.rollback.refusedBefore ? 'rc_open_block refused: ESTALE' : undefined,
      detail: `${written(pending.rollback.written)}; the victim then read /balance.db: ${stale}`,
    });
    const order = ['M1', 'M2', 'M3', 'M4', 'M5', 'S1', 'S2', 'S3', 'S4', 'S5', 'D1', 'D2', 'D3'];
    return [...this.results].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  }

  // ------------------------------------------------------------------ phase-1 attempts

  private memory(where: SecretLocations, heap: VictimPage): void {
    const reads = where.userPages.map((page) => this.kernel.readPhysical(page.pa, PAGE));
    this.addReads('M1', 'memory', 'read its user pages via the linear map', reads);
    const mapped = this.kernel.mapAndRead(heap.pa, PAGE);
    this.addReads('M2', 'memory', 'map its heap page at a new kernel VA', mapped.read ? [mapped.read] : [], {
      refused: mapped.refused,
      steps: mapped.steps,
    });
    const space = this.translationRoot();
    const switched = this.kernel.readWithTtbr0(
      space.root,
      space.asid,
      where.userPages.map((page) => page.va),
    );
    const name = 'load its TTBR0_EL1 and read its pages at EL1';
    if (!switched.taken) {
      this.add('M3', 'memory', name, {
        obtained: false,
        mechanism: switched.fault ?? 'the write did not take effect',
        detail: `MSR TTBR0_EL1 with the victim's root table (PA ${hex(space.root)}); TTBR0_EL1 unchanged`,
      });
    } else
      this.addReads('M3', 'memory', name, switched.reads, {
        refused: undefined,
        steps: [`MSR TTBR0_EL1 with the victim's root table (PA ${hex(space.root)}), put back after`],
      });
    this.addDma('M5', 'memory', 'DMA its heap page to the disk, read that back', [heap]);
  }

  private conShim(where: SecretLocations): void {
    const pages = where.kernelPages;
    this.addReads(
      'S1',
      'con-shim',
      'read its kernel data (pipe, page cache) via the linear map',
      pages.map((p) => this.kernel.readPhysical(p.pa, PAGE)),
    );
    this.addReads(
      'S2',
      'con-shim',
      "read its kernel data at the kernel's VA (con-shim window)",
      pages.map((p) => this.kernel.readVirtual(p.va, PAGE)),
    );
    const maps = pages.map((p) => this.kernel.mapAndRead(p.pa, PAGE));
    this.addReads(
      'S3',
      'con-shim',
      'map its kernel data at a new kernel VA',
      maps.flatMap((m) => (m.read ? [m.read] : [])),
      { refused: maps.find((m) => m.refused !== undefined)?.refused, steps: maps[0]?.steps ?? [] },
    );
    this.addDma('S4', 'con-shim', 'DMA its kernel data to the disk, read that back', pages);
    const vbar = this.kernel.writeSysreg('VBAR_EL1', ...halves(ATTACK_KVA));
    this.add('S5', 'con-shim', 'hijack the exception vectors (MSR VBAR_EL1)', {
      obtained: vbar.taken,
      mechanism: vbar.fault,
      detail: vbar.taken
        ? "VBAR_EL1 held the attacker's vectors (every trap, the victim's included, would run its code); put back"
        : "MSR VBAR_EL1 with the attacker's vectors; VBAR_EL1 unchanged",
    });
  }

  private diskReads(where: SecretLocations): void {
    const cid = this.scenario.victim.cid;
    const blocks = where.diskBlocks.map((block) => this.disk.readBlock(cid, block));
    const reads: ReadOutcome[] = blocks.map((b) =>
      typeof b === 'number' ? { ok: false, fault: `device read ${b}` } : { ok: true, bytes: b },
    );
    const geometry = this.scenario.system.platform.disk(cid);
    const sealed = geometry.bytesPerBlock > PAGE;
    this.addReads(
      'D1',
      'disk',
      'read its disk blocks (raw sectors, via the device)',
      reads,
      {
        refused: sealed ? 'sealed: AES-256-GCM ciphertext' : undefined,
        steps: [`${geometry.bytesPerBlock} bytes per block on the device`],
      },
      'blocks',
    );
  }

  // ------------------------------------------------------------------ helpers

  private addDma(id: string, target: AttackTarget, name: string, pages: readonly VictimPage[]): void {
    const outcomes = pages.map((page) => this.disk.dmaRead(page.pa));
    const faults = outcomes.reduce((n, o) => n + o.smmuGpcFaults, 0);
    const failed = outcomes.filter((o) => o.result < 0).length;
    this.addReads(
      id,
      target,
      name,
      outcomes.map((o) => o.readBack),
      {
        refused: faults > 0 ? 'SMMU granule protection check aborted the DMA' : undefined,
        steps: [`${failed} of ${outcomes.length} commands failed, ${faults} SMMU GPC faults`],
      },
    );
  }

  private addReads(
    id: string,
    target: AttackTarget,
    name: string,
    reads: readonly ReadOutcome[],
    how: { refused: string | undefined; steps: readonly string[] } = { refused: undefined, steps: [] },
    unit = 'pages',
  ): void {
    const token = this.scenario.token;
    const hits = reads.filter((r) => r.ok && containsText(r.bytes, token)).length;
    const faults = reads.filter((r) => !r.ok);
    const fault = faults.find((r): r is Extract<ReadOutcome, { ok: false }> => !r.ok)?.fault;
    const faulted = faults.length > 0 ? `, ${faults.length} faulted` : '';
    const counted = `the token in ${hits} of ${reads.length} ${unit} read${faulted}`;
    this.add(id, target, name, {
      obtained: hits > 0,
      mechanism: hits > 0 ? undefined : (fault ?? how.refused ?? 'nothing of the victim in what was read'),
      detail: [...how.steps, counted].join('; '),
    });
  }

  private add(
    id: string,
    target: AttackTarget,
    name: string,
    outcome: { obtained: boolean; mechanism: string | undefined; detail: string },
  ): void {
    const mechanism = outcome.obtained ? NOT_STOPPED : (outcome.mechanism ?? 'not achieved');
    this.results.push({ id, name, target, obtained: outcome.obtained, mechanism, detail: outcome.detail });
  }

  /** The page at the start of the victim's heap (where its allocator put the token). */
  private heapPage(where: SecretLocations): VictimPage {
    const start = this.scenario.victim.group.mm.brkStart;
    const page = where.userPages.find((p) => p.va === start) ?? where.userPages[0];
    if (page === undefined) throw new Error('attack scenario: the victim has no resident page');
    return page;
  }

  /** The victim's translation table root and ASID as the kernel knows them (ASID 0: unknown). */
  private translationRoot(): { root: number; asid: number } {
    const hw = [...this.scenario.victim.group.threads][0]?.hw;
    if (hw === undefined) throw new Error('attack scenario: the victim has no task');
    if (this.scenario.design === 'native') {
      const space = (hw as NativeTask).space;
      return { root: space?.root ?? 0, asid: space?.asid ?? 0 };
    }
    // Under rcontainer the kernel gave the root page (PT(c)) but the mini-OS chose the ASID.
    return { root: (hw as RcTask).space?.tree.tables[0] ?? 0, asid: 0 };
  }
}

/** What a device write of the attacker returned. */
function written(result: number): string {
  return result === 0 ? 'the block was rewritten on the device' : `the device write failed (${result})`;
}

/** A 64-bit VA as register halves. */
function halves(va: number): [number, number] {
  return bigToHalves(vaToU64(va));
}

/** What the attacker saw, with the token shortened (the demo proves possession, not the value). */
function excerpt(text: string, token: string): string {
  return text
    .split(token)
    .join(`${token.slice(0, 12)}…`)
    .slice(0, 60);
}
