/**
 * `rcontainer attest ID [--nonce HEX]`: ask the daemon for the container's attestation evidence,
 * print whether it verified and what it measured; exit 1 when it did not verify.
 */
import { randomBytes } from 'node:crypto';
import { EngineError } from '../errors.js';
import { containerPath, type AttestResult } from './api.js';
import { withProgress } from './progress.js';
import { withDaemon, type ClientOptions } from './session.js';
import { printTable } from './table.js';

/** `attest ID [--nonce HEX] [--json]`. */
export async function attestCommand(
  id: string,
  options: ClientOptions & { nonce?: string; json?: boolean },
): Promise<number> {
  const nonce = options.nonce ?? randomBytes(32).toString('hex');
  if (!/^(?:[0-9a-fA-F]{2}){1,64}$/.test(nonce))
    throw new EngineError(`attest: --nonce takes 1 to 64 bytes in hex, not '${nonce}'`);
  return withDaemon(options, async (client) => {
    const result = await withProgress(
      `attesting ${id}`,
      client.json<AttestResult>('GET', containerPath(id, `/attest?nonce=${nonce.toLowerCase()}`)),
    );
    if (options.json === true) console.log(JSON.stringify(result, undefined, 2));
    else printResult(result, nonce.toLowerCase());
    return result.verified ? 0 : 1;
  });
}

/** The report's exec policy code by name (attestation.ts ReportExecPolicy). */
function policyName(code: number): string {
  return ['measuredOnly', 'allow', 'deny'][code] ?? `unknown (${code})`;
}

/** Whether the evidence verified and, if it did, what the report says was measured. */
function printResult(result: AttestResult, nonce: string): void {
  const report = result.report;
  const rows: [string, string | number | undefined][] = [
    ['verified', result.verified ? 'yes' : `NO (${result.error ?? 'rejected'})`],
    ['nonce', report?.nonce ?? nonce],
    ['container (cid)', report?.containerId],
    ['image digest', report?.imageDigest],
    ['config digest', report?.configDigest],
    ['exec policy', report?.execPolicy === undefined ? undefined : policyName(report.execPolicy)],
    ['measurement chain', report?.measurementChain],
  ];
  for (const [label, value] of rows)
    if (value !== undefined) console.log(`${`${label}:`.padEnd(19)}${value}`);
  const measurements = report?.measurements ?? [];
  if (measurements.length > 0) {
    console.log('');
    printTable(
      ['COMPONENT', 'SHA256'],
      measurements.map((m) => [m.component, m.sha256]),
    );
  }
}
