/** A ready fake system: every program installed in /bin, helpers to run a command or a script. */
import { wExitStatus, wIfExited, wTermSig } from '../../../src/kernel/uapi/flags.js';
import { executableImage, ProgramRegistry, type ProgramMain } from '../../../src/user/program.js';
import { PROGRAM_NAMES, registerPrograms } from '../../../src/user/programs/index.js';
import { FakeKernel, type SpawnOptions } from './kernel.js';

/** What a run produced. */
export interface RunResult {
  /** Exit code, or 128 + signal. */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly kernel: FakeKernel;
}

/** A fake kernel with /bin populated (plus `extra` test programs) and a small /etc. */
export function makeSystem(extra: Readonly<Record<string, ProgramMain>> = {}): FakeKernel {
  const registry = new ProgramRegistry();
  registerPrograms(registry);
  for (const [name, main] of Object.entries(extra)) registry.register(name, main);
  const kernel = new FakeKernel(registry);
  for (const name of [...PROGRAM_NAMES, ...Object.keys(extra)]) {
    kernel.fs.writeFile(`/bin/${name}`, executableImage(name), 0o755);
  }
  kernel.fs.writeFile('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n');
  kernel.fs.writeFile('/etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  return kernel;
}

/** Run argv to completion on `kernel` (a fresh system by default). */
export function run(
  argv: readonly string[],
  options: SpawnOptions & { kernel?: FakeKernel } = {},
): RunResult {
  const kernel = options.kernel ?? makeSystem();
  const stdoutBefore = kernel.stdout.length;
  const stderrBefore = kernel.stderr.length;
  const path = argv[0]!.includes('/') ? argv[0]! : `/bin/${argv[0]}`;
  const pid = kernel.spawn(path, argv, options);
  kernel.run();
  const status = kernel.statusOf(pid) ?? -1;
  return {
    status: wIfExited(status) ? wExitStatus(status) : 128 + wTermSig(status),
    stdout: kernel.stdout.slice(stdoutBefore),
    stderr: kernel.stderr.slice(stderrBefore),
    kernel,
  };
}

/** Run a shell script with `sh -c`. */
export function sh(script: string, options: SpawnOptions & { kernel?: FakeKernel } = {}): RunResult {
  return run(['sh', '-c', script], options);
}

/** Run one test program `main` as /bin/test with arguments `args`. */
export function runMain(
  main: ProgramMain,
  args: readonly string[] = [],
  options: SpawnOptions = {},
): RunResult {
  return run(['test', ...args], { ...options, kernel: makeSystem({ test: main }) });
}
