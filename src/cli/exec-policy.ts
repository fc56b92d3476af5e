/** `--exec-policy NAME`: one of the exec policies of DESIGN.md §5. */
import { EXEC_POLICIES, type ExecPolicyName } from '../runtime/bundle/spec.js';
import { EngineError } from './errors.js';

/** The policy named by `--exec-policy` (undefined when not given). */
export function parseExecPolicy(name: string | undefined): ExecPolicyName | undefined {
  if (name === undefined) return undefined;
  if (!(EXEC_POLICIES as readonly string[]).includes(name))
    throw new EngineError(`--exec-policy must be one of ${EXEC_POLICIES.join(', ')}, not '${name}'`);
  return name as ExecPolicyName;
}

/** The residual risk of a policy, said when a container is created with it (DESIGN.md §5). */
export function execPolicyWarning(policy: ExecPolicyName | undefined): string | undefined {
  return policy === 'allow'
    ? 'exec policy allow: binaries outside the measured image may run in this container, so its attestation does not cover what runs in it'
    : undefined;
}
