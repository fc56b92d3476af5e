/**
 * Runs conformance vectors (shared/vectors/README.md) through the machine model: every case builds
 * a fresh machine with the case's memory map, writes its memory image, programs its registers and
 * performs each check through the model's own GPC and MMU paths.
 */
import { bigToHalves, hex, parseU64, vaFromU64 } from '../../hw/bits.js';
import { GPC_FAULT_NAMES, gpcFaultKind, gpcFaultLevel } from '../../hw/gpc.js';
import { Access, MMU_FAULT_NAMES, MmuFault, TranslationResult } from '../../hw/mmu.js';
import { Machine } from '../../hw/machine.js';
import { PAS_NAMES, pasFromName, type Pas } from '../../hw/pas.js';
import type { GpcCase, MmuCase, VectorFile } from './format.js';

/** One failed check, with what was expected and what the model produced. */
export interface CheckFailure {
  readonly caseId: string;
  readonly check: string;
  readonly expected: string;
  readonly actual: string;
}

/** Totals of a run. */
export interface ConformanceReport {
  passed: number;
  failed: number;
  failures: CheckFailure[];
}

/** Run every case of a parsed file, adding to `report`. */
export function runVectorFile(file: VectorFile, report: ConformanceReport): void {
  for (const testCase of file.cases) {
    if (file.suite === 'gpc') runGpcCase(testCase as GpcCase, report);
    else runMmuCase(testCase as MmuCase, report);
  }
}

function num(text: string | number, what: string): number {
  const value = parseU64(text, what);
  if (value >= 1n << 53n) throw new RangeError(`${what}: ${text} is beyond 2^53`);
  return Number(value);
}

function regHalves(regs: Record<string, string | number>, name: string): [number, number] {
  const value = regs[name];
  return value === undefined ? [0, 0] : bigToHalves(parseU64(value, `regs.${name}`));
}

/** Build the machine a case describes, with its memory image written and registers programmed. */
function buildMachine(testCase: GpcCase | MmuCase): Machine {
  const machine = new Machine({
    paRangeBits: testCase.machine.paRangeBits,
    dram: testCase.machine.dram.map((bank, i) => ({
      name: `dram${i}`,
      base: num(bank.base, `${testCase.id}: dram base`),
      size: num(bank.size, `${testCase.id}: dram size`),
    })),
    pes: 1,
  });
  for (const write of testCase.memory) {
    const pa = num(write.pa, `${testCase.id}: memory pa`);
    const [low, high] = bigToHalves(parseU64(write.u64, `${testCase.id}: memory u64`));
    const count = write.count ?? 1;
    for (let i = 0; i < count; i++) {
      if (!machine.memory.write64(pa + 8 * i, low, high)) {
        throw new RangeError(`${testCase.id}: memory write at ${hex(pa + 8 * i)} is outside the case's DRAM`);
      }
    }
  }
  const pe = machine.pes[0]!;
  // The checks are made by a Non-secure PE (README: "a Non-secure PE"); a case may override SCR_EL3.
  pe.setSysRegRaw('SCR_EL3', 1, 0);
  for (const name of Object.keys(testCase.regs)) {
    const [low, high] = regHalves(testCase.regs, name);
    if (!pe.setSysRegRaw(name, low, high)) throw new RangeError(`${testCase.id}: unknown register '${name}'`);
  }
  return machine;
}

function runGpcCase(testCase: GpcCase, report: ConformanceReport): void {
  const machine = buildMachine(testCase);
  const gpc = machine.pes[0]!.gpc;
  testCase.checks.forEach((check, index) => {
    const pa = num(check.pa, `${testCase.id}: check pa`);
    const result = gpc.check(pa, pasFromName(check.pas)!, pasFromName(check.state)!);
    const actual =
      result === 0 ? 'ok' : `${GPC_FAULT_NAMES[gpcFaultKind(result)]} level ${gpcFaultLevel(result)}`;
    const expected = 'ok' in check.expect ? 'ok' : `${check.expect.fault} level ${check.expect.level}`;
    record(
      report,
      testCase.id,
      `#${index} pa=${check.pa} pas=${check.pas} state=${check.state}`,
      expected,
      actual,
    );
  });
}

const ACCESS_BY_NAME = { read: Access.Read, write: Access.Write, fetch: Access.Fetch } as const;

function runMmuCase(testCase: MmuCase, report: ConformanceReport): void {
  const machine = buildMachine(testCase);
  const pe = machine.pes[0]!;
  const out = new TranslationResult();
  testCase.checks.forEach((check, index) => {
    const va = vaFromU64(parseU64(check.va, `${testCase.id}: check va`));
    pe.probe(va, check.el, ACCESS_BY_NAME[check.access], out);
    const actual = describeTranslation(out);
    const e = check.expect;
    let expected: string;
    if ('ok' in e) {
      expected = `ok pa=${hex(parseU64(e.pa, `${testCase.id}: expect pa`))} pas=${e.pas}`;
    } else {
      expected = `${e.fault} level ${e.level}`;
      if (e.gptLevel !== undefined) expected += ` gptLevel ${e.gptLevel}`;
      if (e.s1ptw !== undefined) expected += ` s1ptw ${e.s1ptw}`;
    }
    record(report, testCase.id, `#${index} va=${check.va} el=${check.el} ${check.access}`, expected, actual);
  });
}

function describeTranslation(out: TranslationResult): string {
  if (out.fault === MmuFault.None) return `ok pa=${hex(out.pa)} pas=${PAS_NAMES[out.pas as Pas]}`;
  if (out.fault === MmuFault.Gpc) {
    return `${GPC_FAULT_NAMES[gpcFaultKind(out.gpc)]} level ${out.level} gptLevel ${gpcFaultLevel(out.gpc)} s1ptw ${out.s1ptw}`;
  }
  return `${MMU_FAULT_NAMES[out.fault]} level ${out.level}`;
}

function record(
  report: ConformanceReport,
  caseId: string,
  check: string,
  expected: string,
  actual: string,
): void {
  if (expected === actual) report.passed++;
  else {
    report.failed++;
    report.failures.push({ caseId, check, expected, actual });
  }
}
