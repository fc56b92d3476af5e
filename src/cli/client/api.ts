/** The shapes of the daemon's answers (docs/api.md) that the client reads. */

/** One row of `GET /containers/json`. */
export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly command: string | readonly string[];
  readonly state: string;
  readonly status?: string;
  readonly exitCode?: number;
  readonly createdNs?: number;
  /** Host time of creation (ISO 8601). */
  readonly createdAt?: string;
  /** Published ports in Docker's words. */
  readonly ports?: string;
}

/** `GET /containers/{id}/json`. */
export interface ContainerInspect {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  /** The image's config digest (its image id). */
  readonly imageId?: string;
  readonly imageDigest?: string;
  readonly state: string;
  readonly exitCode?: number;
  readonly config?: unknown;
  readonly measurements?: unknown;
  readonly cid?: number;
}

/** `POST /containers/create`. */
export interface CreateRequest {
  readonly image: string;
  readonly name?: string;
  readonly cmd?: string[];
  readonly env?: string[];
  readonly workdir?: string;
  readonly user?: string;
  readonly hostname?: string;
  readonly memory?: number;
  readonly volumes?: readonly { source: string; destination: string; readonly: boolean }[];
  readonly execPolicy?: 'measuredOnly' | 'allow' | 'deny';
  /** Standard input of its first run, base64. */
  readonly stdin?: string;
  /** Keep its standard input open for POST /containers/{id}/input (`run -i`). */
  readonly openStdin?: boolean;
  readonly tty?: boolean;
  readonly init?: boolean;
  readonly ports?: readonly { readonly hostPort: number; readonly containerPort: number }[];
  readonly autoRemove?: boolean;
}

/** `POST /containers/{id}/exec`. */
export interface ExecResult {
  readonly exitCode: number;
  /** Both streams in order. */
  readonly output: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** `GET /containers/{id}/attest`: the report as the verifier read it (absent if it did not verify). */
export interface AttestResult {
  readonly verified: boolean;
  readonly error?: string;
  readonly report?: {
    readonly containerId?: number;
    readonly execPolicy?: number;
    readonly imageDigest?: string;
    readonly configDigest?: string;
    readonly measurementChain?: string;
    readonly measurements?: readonly { readonly component: string; readonly sha256: string }[];
    readonly nonce?: string;
  };
  readonly evidence: string;
}

/** `GET /gpt`: granules per owner, how many each view leaves open, and the containers' cids. */
export interface GptResult {
  readonly granuleBytes: number;
  readonly views: readonly string[];
  readonly owners: readonly {
    readonly owner: string;
    readonly granules: number;
    readonly open: readonly number[];
  }[];
  readonly containers: readonly { readonly cid: number; readonly id: string; readonly name: string }[];
}

/** The path of a container resource (`{id}` may be an id, a unique prefix or a name). */
export function containerPath(id: string, rest = ''): string {
  return `/containers/${encodeURIComponent(id)}${rest}`;
}
