/**
 * Attestation reports (src/minios/crypto/attestation.ts): the byte-exact encoding, sign/verify round
 * trips, one test per refusal (bad signature, wrong nonce, malformed, chain mismatch, bad key),
 * canonicity and bit-flip properties, and determinism.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecPolicy } from '../../../src/minios/abi.js';
import {
  decodeReport,
  encodeReportBody,
  extendMeasurementChain,
  measurementChainOf,
  REPORT_SIGNING_DOMAIN,
  ReportExecPolicy,
  reportSigningMessage,
  signReport,
  verifyReport,
  type AttestationReport,
  type Measurement,
} from '../../../src/minios/crypto/attestation.js';
import { readU16, readU32 } from '../../../src/minios/crypto/bytes.js';
import { ed25519PublicKey, ed25519Sign } from '../../../src/minios/crypto/primitives.js';
import { flipBit, SEED, testBytes } from './helpers.js';

const FIRMWARE_SEED = testBytes('firmware attestation key', 32);
const PUBLIC_KEY = ed25519PublicKey(FIRMWARE_SEED);
const sign = (message: Uint8Array): Uint8Array => ed25519Sign(FIRMWARE_SEED, message);

const BOOT: Measurement[] = [
  { component: 'bl31', sha256: testBytes('bl31 image', 32) },
  { component: 'minios', sha256: testBytes('minios image', 32) },
  { component: 'kernel', sha256: testBytes('kernel image', 32) },
];

function report(overrides: Partial<AttestationReport> = {}): AttestationReport {
  const measurements = overrides.measurements ?? BOOT;
  return {
    containerId: 3,
    execPolicy: ReportExecPolicy.MeasuredOnly,
    imageDigest: testBytes('image', 32),
    configDigest: testBytes('config', 32),
    measurementChain: measurementChainOf(measurements),
    measurements,
    nonce: testBytes('verifier nonce', 32),
    ...overrides,
  };
}

describe('attestation: encoding and round trip', () => {
  it('signs and verifies a report, returning exactly what was signed', () => {
    const r = report();
    const bytes = signReport(r, sign);
    expect(verifyReport(bytes, PUBLIC_KEY, r.nonce)).toEqual({ ok: true, report: r });
    expect(decodeReport(bytes)).toEqual({ ok: true, report: r });
  });

  it('lays the report out byte by byte as documented', () => {
    const r = report({
      containerId: 0x0102_0304,
      execPolicy: ReportExecPolicy.Deny,
      nonce: Uint8Array.of(9, 8, 7),
    });
    const body = encodeReportBody(r);
    expect(Buffer.from(body.subarray(0, 4)).toString('latin1')).toBe('RCAR');
    expect(readU16(body, 4)).toBe(1);
    expect(body[6]).toBe(2); // deny
    expect(body[7]).toBe(3); // nonce length
    expect(readU32(body, 8)).toBe(0x0102_0304);
    expect(readU16(body, 12)).toBe(3);
    expect(readU16(body, 14)).toBe(0);
    expect(body.subarray(16, 48)).toEqual(r.measurementChain);
    expect(body.subarray(48, 80)).toEqual(r.imageDigest);
    expect(body.subarray(80, 112)).toEqual(r.configDigest);
    expect(body.subarray(112, 115)).toEqual(Uint8Array.of(9, 8, 7));
    expect(body[115]).toBe(4); // "bl31"
    expect(Buffer.from(body.subarray(116, 120)).toString('latin1')).toBe('bl31');
    expect(body.subarray(120, 152)).toEqual(BOOT[0]!.sha256);
    expect(body.length).toBe(112 + 3 + (1 + 4 + 32) + (1 + 6 + 32) + (1 + 6 + 32));
    const signed = signReport(r, sign);
    expect(signed.subarray(0, body.length)).toEqual(body);
    expect(signed.length).toBe(body.length + 64);
  });

  it('signs the domain string followed by the body', () => {
    const body = encodeReportBody(report());
    const message = reportSigningMessage(body);
    expect(Buffer.from(message.subarray(0, REPORT_SIGNING_DOMAIN.length)).toString('latin1')).toBe(
      'rcontainer attestation report v1\0',
    );
    const signed = signReport(report(), sign);
    expect(signed.subarray(body.length)).toEqual(ed25519Sign(FIRMWARE_SEED, message));
  });

  it('defines the measurement chain as SHA-256(chain ‖ u8 length ‖ name ‖ digest) from 32 zero bytes', () => {
    expect(measurementChainOf([])).toEqual(new Uint8Array(32));
    let chain = Buffer.alloc(32);
    for (const m of BOOT) {
      chain = createHash('sha256')
        .update(Buffer.concat([chain, Buffer.of(m.component.length), Buffer.from(m.component), m.sha256]))
        .digest();
    }
    expect(measurementChainOf(BOOT)).toEqual(new Uint8Array(chain));
    expect(extendMeasurementChain(measurementChainOf(BOOT.slice(0, 2)), BOOT[2]!)).toEqual(
      measurementChainOf(BOOT),
    );
  });

  it('uses the exec policy codes of abi.ts', () => {
    expect(ReportExecPolicy).toEqual(ExecPolicy);
  });

  it('refuses to encode a report outside the format', () => {
    const bad: Partial<AttestationReport>[] = [
      { containerId: -1 },
      { containerId: 2 ** 32 },
      { execPolicy: 3 as unknown as ReportExecPolicy },
      { imageDigest: new Uint8Array(31) },
      { nonce: new Uint8Array(0) },
      { nonce: new Uint8Array(65) },
      { measurements: [{ component: 'has space', sha256: new Uint8Array(32) }] },
      { measurements: [{ component: '', sha256: new Uint8Array(32) }] },
      { measurements: [{ component: 'é', sha256: new Uint8Array(32) }] },
      { measurements: [{ component: 'x'.repeat(65), sha256: new Uint8Array(32) }] },
      { measurements: [{ component: 'short', sha256: new Uint8Array(20) }] },
      {
        measurements: new Array(65).fill({ component: 'x', sha256: new Uint8Array(32) }),
        measurementChain: new Uint8Array(32),
      },
    ];
    for (const overrides of bad) expect(() => encodeReportBody(report(overrides))).toThrow(RangeError);
    expect(() => signReport(report(), () => new Uint8Array(63))).toThrow(RangeError);
  });
});

describe('attestation: each failure gets its own error', () => {
  const r = report();
  const signed = signReport(r, sign);

  it('bad signature: a modified field, a modified signature, or another key', () => {
    expect(verifyReport(flipBit(signed, 50 * 8), PUBLIC_KEY, r.nonce)).toEqual({
      ok: false,
      error: { kind: 'BadSignature' },
    });
    expect(verifyReport(flipBit(signed, (signed.length - 5) * 8), PUBLIC_KEY, r.nonce)).toEqual({
      ok: false,
      error: { kind: 'BadSignature' },
    });
    const other = ed25519PublicKey(testBytes('attacker key', 32));
    expect(verifyReport(signed, other, r.nonce)).toEqual({ ok: false, error: { kind: 'BadSignature' } });
  });

  it('a report signed by anyone but the firmware key is refused even if well formed', () => {
    const forged = signReport(report({ execPolicy: ReportExecPolicy.Allow }), (m) =>
      ed25519Sign(testBytes('evil', 32), m),
    );
    expect(verifyReport(forged, PUBLIC_KEY, r.nonce)).toEqual({ ok: false, error: { kind: 'BadSignature' } });
  });

  it('wrong nonce: a genuine but stale report', () => {
    expect(verifyReport(signed, PUBLIC_KEY, testBytes('fresh nonce', 32))).toEqual({
      ok: false,
      error: { kind: 'WrongNonce' },
    });
    expect(verifyReport(signed, PUBLIC_KEY, r.nonce.subarray(0, 16))).toEqual({
      ok: false,
      error: { kind: 'WrongNonce' },
    });
  });

  it('malformed: truncated, trailing bytes, bad magic, unknown policy, reserved bits, bad names', () => {
    const malformed = (bytes: Uint8Array): string | undefined => {
      const result = verifyReport(bytes, PUBLIC_KEY, r.nonce);
      return !result.ok && result.error.kind === 'Malformed' ? result.error.reason : undefined;
    };
    expect(malformed(signed.subarray(0, 100))).toBe('too short');
    expect(malformed(signed.subarray(0, signed.length - 1))).toBe('truncated measurement');
    const longer = new Uint8Array(signed.length + 1);
    longer.set(signed);
    expect(malformed(longer)).toBe('trailing bytes');
    const edits: [number, number, string][] = [
      [0, 0x00, 'bad magic'],
      [4, 2, 'unknown format'],
      [6, 7, 'unknown exec policy'],
      [7, 0, 'bad nonce length'],
      [7, 65, 'bad nonce length'],
      [12, 65, 'too many measurements'],
      [14, 1, 'reserved field not zero'],
      [112 + 32, 0, 'bad component name'],
      [112 + 32 + 1, 0x20, 'bad component name'],
    ];
    for (const [offset, value, reason] of edits) {
      const edited = signed.slice();
      edited[offset] = value;
      expect(malformed(edited)).toBe(reason);
    }
  });

  it('malformed even when signed: the firmware key signing a non-canonical body does not make it a report', () => {
    const body = encodeReportBody(r);
    const padded = new Uint8Array(body.length + 1);
    padded.set(body);
    const signedPadded = new Uint8Array(padded.length + 64);
    signedPadded.set(padded);
    signedPadded.set(sign(reportSigningMessage(padded)), padded.length);
    expect(verifyReport(signedPadded, PUBLIC_KEY, r.nonce)).toEqual({
      ok: false,
      error: { kind: 'Malformed', reason: 'trailing bytes' },
    });
  });

  it('chain mismatch: a genuine report whose chain is not the chain of its log (unless not asked)', () => {
    const inconsistent = report({ measurementChain: testBytes('some other chain', 32) });
    const bytes = signReport(inconsistent, sign);
    expect(verifyReport(bytes, PUBLIC_KEY, inconsistent.nonce)).toEqual({
      ok: false,
      error: { kind: 'ChainMismatch' },
    });
    expect(verifyReport(bytes, PUBLIC_KEY, inconsistent.nonce, { checkChain: false })).toEqual({
      ok: true,
      report: inconsistent,
    });
  });

  it('bad public key: not 32 bytes', () => {
    expect(verifyReport(signed, PUBLIC_KEY.subarray(1), r.nonce)).toEqual({
      ok: false,
      error: { kind: 'BadPublicKey' },
    });
  });
});

describe('attestation: properties and determinism', () => {
  const measurement = fc.record({
    component: fc.stringMatching(/^[\x21-\x7e]{1,64}$/),
    sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  });
  const anyReport = fc
    .record({
      containerId: fc.nat({ max: 0xffff_ffff }),
      execPolicy: fc.constantFrom(
        ReportExecPolicy.MeasuredOnly,
        ReportExecPolicy.Allow,
        ReportExecPolicy.Deny,
      ),
      imageDigest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      configDigest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      measurements: fc.array(measurement, { maxLength: 8 }),
      nonce: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    })
    .map((r): AttestationReport => ({ ...r, measurementChain: measurementChainOf(r.measurements) }));

  it('verify(sign(r)) = r, and the encoding is canonical: encode(decode(b)) = b', () => {
    fc.assert(
      fc.property(anyReport, (r) => {
        const bytes = signReport(r, sign);
        expect(verifyReport(bytes, PUBLIC_KEY, r.nonce)).toEqual({ ok: true, report: r });
        const decoded = decodeReport(bytes);
        expect(decoded.ok && encodeReportBody(decoded.report)).toEqual(bytes.subarray(0, bytes.length - 64));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('any single-bit flip of a signed report is refused', () => {
    fc.assert(
      fc.property(anyReport, fc.nat(), (r, pick) => {
        const bytes = signReport(r, sign);
        expect(verifyReport(flipBit(bytes, pick % (bytes.length * 8)), PUBLIC_KEY, r.nonce).ok).toBe(false);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('any accepted decoding re-encodes to the same bytes (random mutations of a valid report)', () => {
    const base = signReport(report(), sign);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const bytes = base.slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          const decoded = decodeReport(bytes);
          if (decoded.ok)
            expect(encodeReportBody(decoded.report)).toEqual(bytes.subarray(0, bytes.length - 64));
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('same report gives byte-identical signed bytes (Ed25519 is deterministic)', () => {
    expect(signReport(report(), sign)).toEqual(signReport(report(), sign));
  });
});
