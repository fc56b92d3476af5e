/**
 * The JSON documents of an OCI image and of a `docker save` archive, validated with zod at the
 * store's trust boundary (every manifest, config and index read from an archive or from disk).
 * Objects are loose: fields this model does not use are kept in the stored bytes and ignored here.
 */
import { z } from 'zod';
import type { Digest } from './digest.js';
import { isDigest } from './digest.js';
import { ImageError } from './errors.js';

/** Largest JSON document (manifest, config, index) the store parses. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;

const digestSchema = z.custom<Digest>((value) => typeof value === 'string' && isDigest(value), {
  message: 'not a sha256 digest',
});
const annotationsSchema = z.record(z.string(), z.string());

const platformSchema = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
});

/** An OCI content descriptor. */
export const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  annotations: annotationsSchema.optional(),
  platform: platformSchema.optional(),
  urls: z.array(z.string()).optional(),
});
/** An OCI content descriptor. */
export type Descriptor = z.infer<typeof descriptorSchema>;

/** An image manifest (OCI, or Docker schema 2 which has the same shape). */
export const manifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  annotations: annotationsSchema.optional(),
});
/** An image manifest. */
export type ImageManifest = z.infer<typeof manifestSchema>;

/** An image index (the layout's index.json, or a multi-platform index blob). */
export const indexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  annotations: annotationsSchema.optional(),
});
/** An image index. */
export type ImageIndex = z.infer<typeof indexSchema>;

const stringList = z.array(z.string()).nullish();

/** The execution parameters of an image config (`config` field); Docker writes null for unset lists. */
export const containerConfigSchema = z.looseObject({
  User: z.string().optional(),
  Env: stringList,
  Entrypoint: stringList,
  Cmd: stringList,
  WorkingDir: z.string().optional(),
  ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
  Labels: z.record(z.string(), z.string()).nullish(),
  StopSignal: z.string().optional(),
});

const historySchema = z.looseObject({
  created: z.string().optional(),
  created_by: z.string().optional(),
  comment: z.string().optional(),
  empty_layer: z.boolean().optional(),
});

/** An image config (`application/vnd.oci.image.config.v1+json`). */
export const configSchema = z.looseObject({
  created: z.string().optional(),
  architecture: z.string(),
  os: z.string(),
  config: containerConfigSchema.nullish(),
  rootfs: z.looseObject({ type: z.literal('layers'), diff_ids: z.array(digestSchema) }),
  history: z.array(historySchema).nullish(),
});
/** An image config. */
export type ImageConfig = z.infer<typeof configSchema>;

/** The `oci-layout` file. */
export const ociLayoutSchema = z.looseObject({ imageLayoutVersion: z.string() });

/** One image of a `docker save` manifest.json. */
export const dockerSaveEntrySchema = z.looseObject({
  Config: z.string(),
  RepoTags: z.array(z.string()).nullish(),
  Layers: z.array(z.string()),
});
/** A `docker save` manifest.json. */
export const dockerSaveManifestSchema = z.array(dockerSaveEntrySchema);
/** One image of a `docker save` manifest.json. */
export type DockerSaveEntry = z.infer<typeof dockerSaveEntrySchema>;

/** Parse and validate the JSON document `bytes` (called `what` in messages). */
export function parseJsonDocument<T>(bytes: Uint8Array, schema: z.ZodType<T>, what: string): T {
  if (bytes.length > MAX_JSON_BYTES) throw new ImageError(`${what} is larger than ${MAX_JSON_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ImageError(`${what} is not valid JSON (${(error as Error).message})`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw new ImageError(`${what} is not valid${where}: ${issue?.message ?? 'bad document'}`);
  }
  return result.data;
}

/** The canonical bytes of a JSON document the store writes (compact, key order as given). */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
