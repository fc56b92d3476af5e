/**
 * OCI runtime-spec bundles (opencontainers/runtime-spec config.json, version 1.0.x): the subset the
 * engine runs — process (args, env, cwd, user), root, hostname, mounts, Linux namespaces and a
 * memory limit — validated with zod at the edge, with one-line errors naming the field.
 *
 * Host-provided pages (bind mounts) are allowed only as explicitly untrusted volumes (DESIGN.md §5):
 * every bind mount is forced `noexec` (never mapped executable) and recorded as untrusted.
 */
import { ExecPolicy } from '../../minios/abi.js';
import { z } from 'zod';

/** The runtime-spec version this engine writes. */
export const OCI_VERSION = '1.0.2';

/** Namespaces a container may ask for (runtime-spec linux.namespaces[].type). */
export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup'] as const;

const mountSchema = z.object({
  destination: z.string().startsWith('/', 'must be an absolute path'),
  type: z.string().optional(),
  source: z.string().optional(),
  options: z.array(z.string()).optional(),
});

/** The schema of config.json (unknown fields are kept out). */
export const runtimeSpecSchema = z.object({
  ociVersion: z.string().regex(/^1\.0\.\d+$/, 'unsupported runtime-spec version'),
  process: z.object({
    terminal: z.boolean().optional(),
    args: z.array(z.string()).min(1, 'needs at least one argument'),
    env: z.array(z.string().regex(/^[^=]+=/, 'must be NAME=value')).optional(),
    cwd: z.string().startsWith('/', 'must be an absolute path'),
    user: z.object({ uid: z.number().int().min(0), gid: z.number().int().min(0) }).optional(),
  }),
  root: z.object({ path: z.string().min(1), readonly: z.boolean().optional() }),
  hostname: z.string().max(64).optional(),
  mounts: z.array(mountSchema).optional(),
  linux: z
    .object({
      namespaces: z
        .array(z.object({ type: z.enum(NAMESPACE_TYPES), path: z.string().optional() }))
        .optional(),
      resources: z
        .object({ memory: z.object({ limit: z.number().int().positive().optional() }).optional() })
        .optional(),
    })
    .optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** A validated config.json. */
export type RuntimeSpec = z.output<typeof runtimeSpecSchema>;
/** A mount of the spec. */
export type SpecMount = z.output<typeof mountSchema>;

/** A bundle that cannot be used: the message names the field. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** Parse and validate config.json text. Throws BundleError with a one-line message. */
export function parseRuntimeSpec(text: string): RuntimeSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BundleError(`config.json is not JSON: ${(error as Error).message}`);
  }
  const parsed = runtimeSpecSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BundleError(`config.json: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const policy = parsed.data.annotations?.[EXEC_POLICY_ANNOTATION];
  if (policy !== undefined && !(EXEC_POLICIES as readonly string[]).includes(policy))
    throw new BundleError(
      `config.json: annotations.${EXEC_POLICY_ANNOTATION}: '${policy}' is not one of ${EXEC_POLICIES.join(', ')}`,
    );
  return enforceVolumePolicy(parsed.data);
}

/** True for a bind mount (a host path made visible in the container). */
export function isBindMount(mount: SpecMount): boolean {
  return mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/**
 * Bind mounts become untrusted volumes: `noexec` is forced and each is listed in the annotation
 * `org.rcontainer.untrusted-volumes` (their pages are host pages: never executable in the container).
 */
export function enforceVolumePolicy(spec: RuntimeSpec): RuntimeSpec {
  const mounts = (spec.mounts ?? []).map((mount) =>
    isBindMount(mount) && !(mount.options ?? []).includes('noexec')
      ? { ...mount, options: [...(mount.options ?? []), 'noexec'] }
      : mount,
  );
  const volumes = mounts.filter(isBindMount).map((m) => m.destination);
  const annotations = { ...spec.annotations };
  if (volumes.length > 0) annotations['org.rcontainer.untrusted-volumes'] = volumes.join(',');
  return { ...spec, mounts, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
}

/** What `run`/`create` ask for, on top of the image's configuration. */
export interface RunOptions {
  readonly args?: readonly string[];
  readonly env?: readonly string[];
  readonly workdir?: string;
  readonly user?: { readonly uid: number; readonly gid: number };
  readonly hostname?: string;
  /** `-v HOST:CONTAINER[:ro]`. */
  readonly volumes?: readonly {
    readonly source: string;
    readonly destination: string;
    readonly readonly: boolean;
  }[];
  readonly memoryBytes?: number;
  readonly execPolicy?: ExecPolicyName;
  /** `-t`: its standard streams are a terminal (OCI `process.terminal`). */
  readonly terminal?: boolean;
  /** `--init`: run the command under the image's tini ({@link INIT_PROGRAM}), as Docker's `--init`. */
  readonly init?: boolean;
}

/** The init `--init` puts in front of the command (it must be a measured binary of the image). */
export const INIT_PROGRAM = '/bin/tini';

/** The image configuration fields a bundle starts from (OCI image config "config"). */
export interface ImageRunConfig {
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Env?: readonly string[] | null;
  readonly WorkingDir?: string;
  readonly User?: string;
}

/** The annotation naming a container's exec policy (DESIGN.md §5; default measuredOnly). */
export const EXEC_POLICY_ANNOTATION = 'org.rcontainer.exec-policy';
/** Exec policies by name (what may be exec'd, and whether a process may enter from outside). */
export const EXEC_POLICIES = ['measuredOnly', 'allow', 'deny'] as const;
/** An exec policy name. */
export type ExecPolicyName = (typeof EXEC_POLICIES)[number];

/** The code of each exec policy in rc_create_container and in the attestation report. */
export const EXEC_POLICY_CODES: Readonly<Record<ExecPolicyName, ExecPolicy>> = {
  measuredOnly: ExecPolicy.MeasuredOnly,
  allow: ExecPolicy.Allow,
  deny: ExecPolicy.Deny,
};

/** The name of an exec policy code, or undefined for a code no policy has. */
export function execPolicyName(code: number): ExecPolicyName | undefined {
  return EXEC_POLICIES.find((name) => EXEC_POLICY_CODES[name] === code);
}

/** The exec policy a spec names (measuredOnly when it names none). */
export function execPolicyOf(spec: RuntimeSpec): ExecPolicyName {
  const named = spec.annotations?.[EXEC_POLICY_ANNOTATION];
  return named === undefined ? 'measuredOnly' : (named as ExecPolicyName);
}

/** The config.json of a container from its image's configuration and the run options. */
export function specFromImage(image: ImageRunConfig, run: RunOptions): RuntimeSpec {
  const entrypoint = image.Entrypoint ?? [];
  const args = [
    ...entrypoint,
    ...(run.args !== undefined && run.args.length > 0 ? run.args : (image.Cmd ?? [])),
  ];
  if (args.length === 0) throw new BundleError('no command: the image has no Cmd and none was given');
  if (run.init === true) args.unshift(INIT_PROGRAM, '--');
  const env = mergeEnv(image.Env ?? ['PATH=/bin'], run.env ?? []);
  const user = run.user ?? parseUser(image.User);
  const spec: RuntimeSpec = {
    ociVersion: OCI_VERSION,
    process: {
      ...(run.terminal === true ? { terminal: true } : {}),
      args,
      env,
      cwd: run.workdir ?? (image.WorkingDir || '/'),
      ...(user ? { user } : {}),
    },
    root: { path: 'rootfs', readonly: false },
    ...(run.hostname !== undefined ? { hostname: run.hostname } : {}),
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
      ...(run.volumes ?? []).map((v) => ({
        destination: v.destination,
        type: 'bind',
        source: v.source,
        options: ['rbind', v.readonly ? 'ro' : 'rw'],
      })),
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }],
      ...(run.memoryBytes !== undefined ? { resources: { memory: { limit: run.memoryBytes } } } : {}),
    },
    ...(run.execPolicy !== undefined ? { annotations: { [EXEC_POLICY_ANNOTATION]: run.execPolicy } } : {}),
  };
  return parseRuntimeSpec(JSON.stringify(spec));
}

/** Image env, then overrides by name (`-e NAME=value`; `-e NAME` alone is refused). */
function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = new Map<string, string>();
  for (const entry of [...base, ...overrides]) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new BundleError(`environment entry '${entry}' is not NAME=value`);
    out.set(entry.slice(0, eq), entry);
  }
  return [...out.values()];
}

/** An image's `User` ("uid[:gid]", numeric only); undefined for root or empty. */
function parseUser(user: string | undefined): { uid: number; gid: number } | undefined {
  if (user === undefined || user === '') return undefined;
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (match === null) throw new BundleError(`image user '${user}' is not numeric uid[:gid]`);
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}
