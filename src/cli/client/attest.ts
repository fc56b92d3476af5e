/**
 * `rcontainer attest ID`: fetch a container's attestation evidence from the daemon and appraise it
 * here, as its owner (runtime/attestation/appraise.ts): the report's signature and nonce, the
 * platform's endorsement of the mini-OS key, the boot measurements against this build, and the
 * image, config and exec policy against the owner's references. Exit 0 when every check that
 * could run passed, 1 when one failed.
 */
import { randomBytes } from 'node:crypto';
import { appraiseEvidence, type Appraisal } from '../../runtime/attestation/appraise.js';
import { execPolicyName } from '../../runtime/bundle/spec.js';
import { stateDir } from '../engine-state.js';
import { EngineError } from '../errors.js';
import { containerPath, type AttestResult, type ContainerInspect } from './api.js';
import {
  checkReferenceOptions,
  referenceValues,
  type ReferenceOptions,
  type ReferenceSources,
} from './attest-reference.js';
import { withProgress } from './progress.js';
import { withDaemon, type ClientOptions } from './session.js';
import { printTable } from './table.js';

/** `attest ID [--nonce HEX] [--platform-key HEX] [--image REF] [--exec-policy NAME] [--json]`. */
export async function attestCommand(
  id: string,
  options: ClientOptions & ReferenceOptions & { nonce?: string; json?: boolean },
): Promise<number> {
  const nonce = options.nonce ?? randomBytes(32).toString('hex');
  if (!/^(?:[0-9a-fA-F]{2}){1,64}$/.test(nonce))
    throw new EngineError(`attest: --nonce takes 1 to 64 bytes in hex, not '${nonce}'`);
  checkReferenceOptions(options);
  return withDaemon(options, async (client) => {
    const container = await client.json<ContainerInspect>('GET', containerPath(id, '/json'));
    const info = await client.json<{ platformKey?: string | null }>('GET', '/info');
    const result = await withProgress(
      `attesting ${id}`,
      client.json<AttestResult>('GET', containerPath(id, `/attest?nonce=${nonce.toLowerCase()}`)),
    );
    const { reference, sources } = await referenceValues(
      stateDir(options.stateDir),
      container,
      info.platformKey,
      options,
    );
    const evidence = new Uint8Array(Buffer.from(result.evidence, 'hex'));
    const appraisal = appraiseEvidence(evidence, new Uint8Array(Buffer.from(nonce, 'hex')), reference);
    if (options.json === true) printJson(appraisal, result, sources);
    else printAppraisal(appraisal, sources, nonce.toLowerCase());
    return appraisal.ok ? 0 : 1;
  });
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** The first failed check as a few words, for the `verified` line. */
function verdict(appraisal: Appraisal): string {
  const skipped = appraisal.checks.filter((c) => c.outcome === 'skipped').map((c) => c.name);
  if (appraisal.ok) return skipped.length === 0 ? 'yes' : `yes (not checked: ${skipped.join(', ')})`;
  const failed = appraisal.checks.find((c) => c.outcome === 'fail');
  return `NO (${failed?.name ?? 'rejected'}: ${failed?.detail ?? ''})`;
}

function printJson(appraisal: Appraisal, result: AttestResult, sources: ReferenceSources): void {
  const report = appraisal.report;
  const answer = {
    verified: appraisal.ok,
    checks: appraisal.checks,
    references: sources,
    report:
      report === undefined
        ? undefined
        : {
            containerId: report.containerId,
            execPolicy: execPolicyName(report.execPolicy),
            imageDigest: `sha256:${hex(report.imageDigest)}`,
            configDigest: `sha256:${hex(report.configDigest)}`,
            measurementChain: hex(report.measurementChain),
            measurements: report.measurements.map((m) => ({ component: m.component, sha256: hex(m.sha256) })),
            nonce: hex(report.nonce),
          },
    evidence: result.evidence,
  };
  console.log(JSON.stringify(answer, undefined, 2));
}

/** The verdict, the report's fields, each check, and the boot measurements. */
function printAppraisal(appraisal: Appraisal, sources: ReferenceSources, nonce: string): void {
  const report = appraisal.report;
  const rows: [string, string | number | undefined][] = [
    ['verified', verdict(appraisal)],
    ['nonce', report === undefined ? nonce : hex(report.nonce)],
    ['container (cid)', report?.containerId],
    [
      'image digest',
      report === undefined ? undefined : `sha256:${hex(report.imageDigest)} (measured binary list)`,
    ],
    ['config digest', report === undefined ? undefined : `sha256:${hex(report.configDigest)}`],
    ['exec policy', report === undefined ? undefined : execPolicyName(report.execPolicy)],
    ['measurement chain', report === undefined ? undefined : hex(report.measurementChain)],
  ];
  for (const [label, value] of rows)
    if (value !== undefined) console.log(`${`${label}:`.padEnd(19)}${value}`);
  console.log('');
  printTable(
    ['CHECK', 'RESULT', 'DETAIL'],
    appraisal.checks.map((c) => [c.name, c.outcome, c.detail]),
  );
  console.log('');
  console.log(`platform key: ${sources.platformKey}`);
  console.log(`image:        ${sources.image}`);
  console.log(`exec policy:  ${sources.execPolicy}`);
  if (report !== undefined && report.measurements.length > 0) {
    console.log('');
    printTable(
      ['COMPONENT', 'SHA256'],
      report.measurements.map((m) => [m.component, hex(m.sha256)]),
    );
  }
}
