/**
 * A short, deterministic tour of the trusted platform: measured boot, the mini-OS's GPT views, a
 * container getting memory through the real gate, and a compromised kernel that maps that memory
 * and is stopped by the granule protection check. Every value printed is read back from the model.
 */
import { hex, split64 } from '../../hw/bits.js';
import { PageAllocator, PageTableLayout } from '../../hw/layout.js';
import { Machine } from '../../hw/machine.js';
import { MallocKind, rcCall, RcCall, rcResultName } from '../../minios/abi.js';
import { bootPlatform } from '../../minios/platform.js';
import type { TourStep } from './machine-tour.js';

const DRAM = 0x8000_0000;
const CONTAINER_PAGE = 0x9000_0000; // OS memory the kernel hands to the container
const KERNEL_BUFFER = 0x9100_0000; // OS memory the kernel loads the container's data from
const ATTACK_TABLES = 0x9200_0000; // page tables the compromised kernel builds for itself
const ATTACK_VA = 0x1234_5000;
const KERNEL_VECTORS = 0x9300_0000;

/** Run the tour and return its steps. */
export function platformTour(): TourStep[] {
  const steps: TourStep[] = [];
  const machine = new Machine({ dram: [{ name: 'dram0', base: DRAM, size: 0x4000_0000 }], pes: 1 });
  const platform = bootPlatform(machine, { seed: 'demo' });
  const { firmware, minios } = platform;
  const pe = machine.pes[0]!;
  steps.push({
    title: 'Measured boot: EL3 firmware, then the mini-OS; the kernel starts deprivileged',
    lines: [
      ...firmware.bootLog.entries.map(
        (e) => `${e.component.padEnd(8)} sha256 ${Buffer.from(e.digest).toString('hex').slice(0, 16)}…`,
      ),
      `measurement chain ${Buffer.from(firmware.bootLog.chain).toString('hex').slice(0, 16)}…`,
      `Priv-GPT at ${hex(firmware.privGptBase)} (firmware), OS-GPT at ${hex(minios.views.osL0)} (mini-OS, in MINI memory)`,
      `every PE now runs the kernel at EL${pe.el} under the OS-GPT`,
    ],
  });

  // The kernel asks the mini-OS for a container and hands it a page, through the gate.
  let before = pe.cycles;
  rcCall(pe, RcCall.SwitchToMiniOs, 0);
  const gateCycles = Math.round(pe.cycles - before);
  before = pe.cycles;
  const shim = rcCall(pe, RcCall.CreateShim, 1);
  const shimCycles = Math.round(pe.cycles - before);
  const malloc = rcCall(pe, RcCall.MallocMm, 1, CONTAINER_PAGE, 1, MallocKind.Ctr);
  machine.memory.writeBytes(KERNEL_BUFFER, new TextEncoder().encode('the victim secret'));
  const copy = rcCall(pe, RcCall.CopyPage, 1, CONTAINER_PAGE, KERNEL_BUFFER);
  machine.memory.fill(KERNEL_BUFFER, 4096, 0); // the kernel drops its own copy
  const view = minios.views.viewOf(1)!;
  steps.push({
    title: 'The kernel creates container 1 and gives it a page, through the gate (SMC to EL3 and back)',
    lines: [
      `rc_create_shim(1) = ${rcResultName(shim)}: shim-GPT(1) at ${hex(view)}, ${minios.views.bytes / 1024} KiB of GPT tables in all views`,
      `rc_malloc_mm(1, ${hex(CONTAINER_PAGE)}, 1, CTR) = ${rcResultName(malloc)}: scrubbed, closed in the OS-GPT, open in shim-GPT(1)`,
      `rc_copy_page(1, ${hex(CONTAINER_PAGE)}, ${hex(KERNEL_BUFFER)}) = ${rcResultName(copy)}: the container's data is in its page`,
      `an empty gate round trip costs ${gateCycles} cycles on ${machine.profile.name} (2 SMCs, 2 GPT switches with TLBI PAALL); rc_create_shim ${shimCycles} (scrubbing and GPT copies)`,
    ],
  });

  // A compromised kernel maps the container's page in page tables of its own and reads it.
  const tables = new PageTableLayout(machine.memory, new PageAllocator(ATTACK_TABLES, 0x10_0000));
  tables.map(ATTACK_VA, CONTAINER_PAGE, { ap: 0, pxn: true, uxn: true });
  tables.map(0x2000_0000, KERNEL_VECTORS, { ap: 0, uxn: true });
  const faults: string[] = [];
  machine.code.register(KERNEL_VECTORS + 0x200, 'kernel-abort', (p) => {
    faults.push(
      `ESR_EL1 ${hex(p.regs.low('ESR_EL1'))} (FSC 0x${(p.regs.low('ESR_EL1') & 0x3f).toString(16)}: granule protection fault)`,
    );
    p.regs.setNumber('ELR_EL1', p.regs.number('ELR_EL1') + 4);
    p.eret();
  });
  // The model's god mode stands in for a kernel that found a way to install vectors and tables.
  pe.setSysRegRaw('VBAR_EL1', 0x2000_0000, 0);
  pe.setSysRegRaw('TTBR0_EL1', ...split64(tables.root));
  pe.tlbi('VMALLE1');
  const refusedTtbr = pe.msrNumber('TTBR0_EL1', 0); // the honest path is closed: only the mini-OS writes it
  faults.length = 0;
  pe.tlbi('VMALLE1');
  const stolen = pe.load32(ATTACK_VA);
  steps.push({
    title: 'A compromised kernel maps the container page and reads it: the GPC stops it',
    lines: [
      `MSR TTBR0_EL1 from the kernel: ${refusedTtbr ? 'accepted' : 'trapped to EL1 (EC 0x18): only the mini-OS writes it'}`,
      `with its own tables anyway, load32(${hex(ATTACK_VA)}) returned ${hex(stolen)}`,
      ...faults,
      `the page still holds the secret, reachable only under shim-GPT(1): "${new TextDecoder().decode(machine.memory.readBytes(CONTAINER_PAGE, 17)!)}"`,
    ],
  });
  return steps;
}
