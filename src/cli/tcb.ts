/** `rcontainer tcb [--json]`. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tcbReport } from '../eval/tcb/report.js';
import { UserError } from './errors.js';

/** The repository root: the sources live beside dist/. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'src', 'minios')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new UserError('tcb: cannot find the source tree (src/) next to this installation');
}

/** Print the TCB report; returns the exit code. */
export function tcbCommand(options: { json?: boolean }): number {
  const report = tcbReport(repositoryRoot());
  if (options.json) {
    console.log(JSON.stringify(report, undefined, 2));
    return 0;
  }
  console.log('TCB in source lines of code (non-blank, non-comment), next to the paper');
  console.log(`  EL3 (GPT-switch service)  ${String(report.el3).padStart(6)}   paper ${report.paper.el3}`);
  console.log(`  EL1 (mini-OS)             ${String(report.el1).padStart(6)}   paper ${report.paper.el1}`);
  console.log(`  EL0 (trusted user part)   ${String(report.el0).padStart(6)}   paper ${report.paper.el0}`);
  for (const file of report.files)
    console.log(`    ${file.part}  ${String(file.sloc).padStart(5)}  ${file.path}`);
  return 0;
}
