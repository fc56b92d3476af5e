// The owner's appraisal of attestation evidence: a genuine container passes every check; a forged,
// modified, replayed or unendorsed report and a container that is not the expected one fail the
// check that names why.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimSystem } from '../../../src/designs/system.js';
import { AttestationKey, platformAttestationKey } from '../../../src/firmware/attestation.js';
import { ATTEST_TRAILER_BYTES, ExecPolicy } from '../../../src/minios/abi.js';
import { decodeReport, signReport } from '../../../src/minios/crypto/attestation.js';
import {
  appraiseEvidence,
  referenceBootMeasurements,
  type Appraisal,
  type ReferenceValues,
} from '../../../src/runtime/attestation/appraise.js';

const sha = (text: string): Uint8Array => new Uint8Array(createHash('sha256').update(text).digest());
const binaries = [sha('bin/sh'), sha('bin/kv-server')];
const config = new TextEncoder().encode('{"config":{"Cmd":["kv-server"]}}');
const nonce = sha('the owner’s nonce');

/** SHA-256 of the binary list as rc_create_container measures it. */
function listDigest(list: readonly Uint8Array[]): Uint8Array {
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, list.length, true);
  const hash = createHash('sha256').update(count);
  for (const b of list) hash.update(b);
  return new Uint8Array(hash.digest());
}

const reference: ReferenceValues = {
  platformPublicKey: platformAttestationKey('appraisal machine').publicKey,
  boot: referenceBootMeasurements(),
  imageDigest: listDigest(binaries),
  configDigest: new Uint8Array(createHash('sha256').update(config).digest()),
  execPolicy: ExecPolicy.MeasuredOnly,
};

function outcomes(appraisal: Appraisal): Record<string, string> {
  return Object.fromEntries(appraisal.checks.map((c) => [c.name, c.outcome]));
}

describe('appraiseEvidence', () => {
  let evidence: Uint8Array;
  beforeAll(() => {
    const system = new SimSystem({ design: 'rcontainer', seed: 'appraisal machine' });
    const cid = system.createContainer({ binaries, config, policy: ExecPolicy.MeasuredOnly });
    const answer = system.attest(cid, nonce);
    if (typeof answer === 'number') throw new Error(`rc_attest refused: ${answer}`);
    evidence = answer;
  });

  it('passes every check for a genuine container against the right references', () => {
    const appraisal = appraiseEvidence(evidence, nonce, reference);
    expect(appraisal.ok).toBe(true);
    expect(appraisal.checks.map((c) => [c.name, c.outcome])).toEqual([
      ['report', 'pass'],
      ['platform token', 'pass'],
      ['boot measurements', 'pass'],
      ['image', 'pass'],
      ['config', 'pass'],
      ['exec policy', 'pass'],
    ]);
    expect(appraisal.report?.measurements.map((m) => m.component)).toEqual(['firmware', 'minios', 'kernel']);
  });

  it('refuses evidence from a machine whose platform key is not the anchor', () => {
    const other = { ...reference, platformPublicKey: platformAttestationKey('another machine').publicKey };
    const appraisal = appraiseEvidence(evidence, nonce, other);
    expect(appraisal.ok).toBe(false);
    expect(outcomes(appraisal)).toEqual({ 'platform token': 'fail' });
    expect(appraisal.report).toBeUndefined();
  });

  it('refuses a report the kernel signed with a key of its own, even with the genuine token', () => {
    const genuine = decodeReport(evidence.subarray(0, evidence.length - ATTEST_TRAILER_BYTES));
    if (!genuine.ok) throw new Error('genuine report did not decode');
    const forger = AttestationKey.fromPrivateSeed(sha('kernel-made key'));
    const forged = signReport({ ...genuine.report, imageDigest: sha('a backdoored image') }, (m) =>
      forger.sign(m),
    );
    const token = evidence.subarray(evidence.length - 64);
    const bytes = new Uint8Array([...forged, ...forger.publicKey, ...token]);
    const appraisal = appraiseEvidence(bytes, nonce, reference);
    // The report itself verifies under the forger's key; the platform never endorsed that key.
    expect(outcomes(appraisal)).toEqual({ 'platform token': 'fail' });
    expect(appraisal.checks[0]!.detail).toMatch(/does not endorse mini-OS key/);
  });

  it('refuses a modified report and a replayed one', () => {
    const modified = evidence.slice();
    modified[60] = modified[60]! ^ 1; // a byte of the image digest
    expect(appraiseEvidence(modified, nonce, reference).checks).toEqual([
      expect.objectContaining({
        name: 'report',
        outcome: 'fail',
        detail: expect.stringMatching(/forged or modified/),
      }),
    ]);
    expect(appraiseEvidence(evidence, sha('another nonce'), reference).checks).toEqual([
      expect.objectContaining({ name: 'report', outcome: 'fail', detail: expect.stringMatching(/replayed/) }),
    ]);
    expect(appraiseEvidence(evidence.subarray(0, 50), nonce, reference).ok).toBe(false);
  });

  it('fails the check for each reference the container does not match', () => {
    const boot = referenceBootMeasurements();
    boot[2] = { component: 'kernel', sha256: sha('another kernel build') };
    const cases: [Partial<ReferenceValues>, string][] = [
      [{ boot }, 'boot measurements'],
      [{ imageDigest: listDigest(binaries.slice(0, 1)) }, 'image'],
      [{ configDigest: sha('another config') }, 'config'],
      [{ execPolicy: ExecPolicy.Deny }, 'exec policy'],
    ];
    for (const [change, failing] of cases) {
      const appraisal = appraiseEvidence(evidence, nonce, { ...reference, ...change });
      expect(appraisal.ok).toBe(false);
      const failed = appraisal.checks.filter((c) => c.outcome === 'fail').map((c) => c.name);
      expect(failed).toEqual([failing]);
    }
  });

  it('refuses evidence with any one byte changed, wherever it is (report, key or token)', () => {
    fc.assert(
      fc.property(fc.nat({ max: evidence.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const changed = evidence.slice();
        changed[at] = changed[at]! ^ mask;
        const appraisal = appraiseEvidence(changed, nonce, reference);
        expect(appraisal.ok).toBe(false);
        expect(appraisal.report).toBeUndefined();
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('skips the checks it has no reference for, and says so', () => {
    const appraisal = appraiseEvidence(evidence, nonce, { platformPublicKey: reference.platformPublicKey });
    expect(appraisal.ok).toBe(true);
    expect(outcomes(appraisal)).toEqual({
      report: 'pass',
      'platform token': 'pass',
      'boot measurements': 'skipped',
      image: 'skipped',
      config: 'skipped',
      'exec policy': 'skipped',
    });
  });
});
