/**
 * SMC dispatch (src/firmware/smccc.ts) on a booted monitor: SMCCC_VERSION, SMCCC_ARCH_FEATURES,
 * SMC_UNK for unknown, yielding, SMC32-form and malformed identifiers, and the identifier fields.
 */
import { describe, expect, it } from 'vitest';
import { RC_ENTER_MINIOS, RC_VERSION } from '../../src/firmware/rc-service.js';
import {
  decodeFunctionId,
  fastCallId,
  Oen,
  SMCCC_ARCH_FEATURES,
  SMCCC_VERSION,
  SmcDispatcher,
  SmcReturn,
} from '../../src/firmware/smccc.js';
import { bootFixture, smc } from './helpers.js';

describe('function identifiers', () => {
  it('decode the fast-call bit, the convention, the owning entity and the function number', () => {
    expect(decodeFunctionId(RC_ENTER_MINIOS)).toEqual({
      value: 0xc200_0101,
      fast: true,
      smc64: true,
      owningEntity: Oen.SiP,
      functionNumber: 0x101,
    });
    expect(decodeFunctionId(SMCCC_VERSION)).toMatchObject({
      fast: true,
      smc64: false,
      owningEntity: Oen.Arm,
      functionNumber: 0,
    });
    expect(fastCallId(true, Oen.SiP, 0x100)).toBe(RC_VERSION);
    // Only W0 counts: the upper half of X0 is ignored.
    expect(decodeFunctionId(2 ** 40 + RC_VERSION).value).toBe(RC_VERSION);
  });

  it('the dispatcher refuses to register yielding or malformed identifiers, and duplicates', () => {
    const smcs = new SmcDispatcher();
    expect(() => smcs.register(0x4200_0100, 'yielding', () => undefined)).toThrow(RangeError);
    expect(() => smcs.register(0xc201_0100, 'bits 23:16', () => undefined)).toThrow(RangeError);
    expect(() => smcs.register(SMCCC_VERSION, 'again', () => undefined)).toThrow(RangeError);
    expect(smcs.nameOf(SMCCC_VERSION)).toBe('SMCCC_VERSION');
  });
});

describe('SMC dispatch at EL3', () => {
  it('SMCCC_VERSION returns 1.1 (0x10001)', () => {
    const fx = bootFixture();
    expect(smc(fx.pe, SMCCC_VERSION)).toBe(0x1_0001);
  });

  it('SMCCC_ARCH_FEATURES reports implemented identifiers', () => {
    const fx = bootFixture();
    expect(smc(fx.pe, SMCCC_ARCH_FEATURES, RC_ENTER_MINIOS)).toBe(SmcReturn.SUCCESS);
    expect(smc(fx.pe, SMCCC_ARCH_FEATURES, 0xc200_01fe)).toBe(SmcReturn.NOT_SUPPORTED);
    expect(smc(fx.pe, SMCCC_ARCH_FEATURES, -1)).toBe(SmcReturn.NOT_SUPPORTED);
  });

  it.each([
    ['an unknown SiP call', 0xc200_01fe],
    ['the SMC32 form of an SMC64 service', 0x8200_0100],
    ['a yielding call', 0x4200_0100],
    ['a fast call with bits [23:16] set', 0xc2ff_0100],
    ['an unknown standard service call', 0x8400_0000],
  ])('%s returns SMC_UNK (-1) and leaves X1-X7 alone', (_what, fid) => {
    const fx = bootFixture();
    const before = fx.fw.smc.stats.unknown;
    expect(smc(fx.pe, fid, 1, 2, 3, 4, 5, 6, 7)).toBe(SmcReturn.SMC_UNK);
    expect(Array.from(fx.pe.x.subarray(1, 8))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(fx.fw.smc.stats.unknown - before).toBe(1);
    expect([fx.pe.el, fx.pe.halted]).toEqual([1, undefined]);
  });
});
