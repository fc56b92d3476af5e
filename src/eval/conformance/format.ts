/**
 * The conformance-vector file format `rcontainer-conformance/1` (shared/vectors/README.md),
 * validated with zod at the file edge so that a malformed file is one clear message.
 */
import { z } from 'zod';

const hexOrNumber = z.union([z.string(), z.number().int().nonnegative()]);

const memoryWrite = z.object({
  pa: hexOrNumber,
  u64: hexOrNumber,
  count: z
    .number()
    .int()
    .positive()
    .max(1 << 24)
    .optional(),
});

const pasName = z.enum(['Secure', 'NonSecure', 'Root', 'Realm']);
const gpcFaultName = z.enum(['GPF', 'GPTWalk', 'GPTAddressSize', 'GPTEABT']);
const mmuFaultName = z.enum([
  'Translation',
  'AddressSize',
  'AccessFlag',
  'Permission',
  'ExternalAbortOnWalk',
]);

const gpcCheck = z.object({
  pa: hexOrNumber,
  pas: pasName,
  state: pasName,
  expect: z.union([
    z.object({ ok: z.literal(true) }),
    z.object({ fault: gpcFaultName, level: z.union([z.literal(0), z.literal(1)]) }),
  ]),
});

const mmuCheck = z.object({
  va: hexOrNumber,
  el: z.union([z.literal(0), z.literal(1)]),
  access: z.enum(['read', 'write', 'fetch']),
  expect: z.union([
    z.object({ ok: z.literal(true), pa: hexOrNumber, pas: pasName }),
    z.object({
      fault: z.union([mmuFaultName, gpcFaultName]),
      level: z.number().int().min(-1).max(3),
      gptLevel: z.union([z.literal(0), z.literal(1)]).optional(),
      s1ptw: z.boolean().optional(),
    }),
  ]),
});

const machine = z.object({
  paRangeBits: z.number().int().min(32).max(52),
  dram: z.array(z.object({ base: hexOrNumber, size: hexOrNumber })).min(1),
});

const baseCase = {
  id: z.string().min(1),
  note: z.string().optional(),
  machine,
  regs: z.record(z.string(), hexOrNumber),
  memory: z.array(memoryWrite).default([]),
};

const gpcCase = z.object({ ...baseCase, checks: z.array(gpcCheck) });
const mmuCase = z.object({ ...baseCase, checks: z.array(mmuCheck) });

/** A whole vector file. */
export const vectorFileSchema = z.discriminatedUnion('suite', [
  z.object({
    format: z.literal('rcontainer-conformance/1'),
    suite: z.literal('gpc'),
    description: z.string().optional(),
    cases: z.array(gpcCase),
  }),
  z.object({
    format: z.literal('rcontainer-conformance/1'),
    suite: z.literal('mmu'),
    description: z.string().optional(),
    cases: z.array(mmuCase),
  }),
]);

/** A parsed vector file. */
export type VectorFile = z.infer<typeof vectorFileSchema>;
/** One case of a `gpc` file. */
export type GpcCase = z.infer<typeof gpcCase>;
/** One case of an `mmu` file. */
export type MmuCase = z.infer<typeof mmuCase>;
/** One check of a `gpc` case. */
export type GpcCheck = z.infer<typeof gpcCheck>;
/** One check of an `mmu` case. */
export type MmuCheck = z.infer<typeof mmuCheck>;

/** Parse and validate vector-file text; throws an Error with a one-line reason on bad input. */
export function parseVectorFile(text: string, fileName: string): VectorFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${fileName}: not valid JSON (${(error as Error).message})`);
  }
  const result = vectorFileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new Error(`${fileName}: not a rcontainer-conformance/1 file: at ${where}: ${issue.message}`);
  }
  return result.data;
}
