/** `rcontainer conformance FILE...`: run vector files through the machine model. */
import { readFileSync } from 'node:fs';
import { parseVectorFile } from '../eval/conformance/format.js';
import { runVectorFile, type ConformanceReport } from '../eval/conformance/run.js';
import { UserError } from './errors.js';

/** Run the files, print failures and the summary line; returns the process exit code. */
export function conformanceCommand(files: string[], options: { quiet?: boolean }): number {
  if (files.length === 0) throw new UserError('conformance: give at least one vector file');
  const report: ConformanceReport = { passed: 0, failed: 0, failures: [] };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UserError(
        `conformance: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    let parsed;
    try {
      parsed = parseVectorFile(text, file);
    } catch (error) {
      throw new UserError((error as Error).message);
    }
    const before = report.failed;
    try {
      runVectorFile(parsed, report);
    } catch (error) {
      if (error instanceof RangeError) throw new UserError(`${file}: ${error.message}`);
      throw error;
    }
    if (!options.quiet) {
      const failures = report.failures.slice(
        before === 0 ? 0 : report.failures.length - (report.failed - before),
      );
      for (const f of failures) {
        console.log(
          `FAIL ${file} ${f.caseId} ${f.check}\n  expected: ${f.expected}\n  actual:   ${f.actual}`,
        );
      }
    }
  }
  console.log(`conformance: ${report.passed} passed, ${report.failed} failed`);
  return report.failed > 0 ? 1 : 0;
}
