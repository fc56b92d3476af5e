/**
 * The built-in images, generated on first use as real layered OCI images: a base layer (the shell,
 * the busybox-style applets, /etc/passwd, /etc/group and the usual top-level directories) shared by
 * all of them, then an app layer with the image's programs. Executables are the model's program
 * files (`executableImage(name)` of src/user/program.ts), which the caller passes in as a
 * {@link ProgramCatalog}: the layer rule (DESIGN.md §2) keeps src/runtime from importing src/user.
 * Output is deterministic, so a built-in image has the same digest on every machine.
 */
import { ImageError } from './errors.js';
import { assembleImage, type BuiltLayer } from './image-builder.js';
import { buildLayer, type LayerFile } from './layer-builder.js';
import type { StagedImport } from './archive-import.js';
import { DEFAULT_TAG, formatTag } from './reference.js';

/** The programs an image can hold: wire with `{ executableImage, programNames: PROGRAM_NAMES, appletNames: APPLET_NAMES }`. */
export interface ProgramCatalog {
  /** The bytes of the executable file of program `name`. */
  readonly executableImage: (name: string) => Uint8Array;
  /** Every program name. */
  readonly programNames: readonly string[];
  /** The busybox-style applets of the base layer (besides `sh`). */
  readonly appletNames: readonly string[];
}

/** Names of the built-in images. */
export const BUILTIN_IMAGE_NAMES = ['busybox', 'kv', 'httpd', 'hackbench', 'build'] as const;
/** A built-in image name. */
export type BuiltinImageName = (typeof BUILTIN_IMAGE_NAMES)[number];

/** What a built-in image adds to the base layer, and how it runs. */
interface BuiltinSpec {
  readonly description: string;
  /** Programs of the app layer, installed as /bin/<name> (none: the image is the base layer alone). */
  readonly programs: readonly string[];
  readonly files?: readonly LayerFile[];
  readonly cmd: readonly string[];
  readonly exposedPorts?: readonly string[];
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

const BUILTINS: Readonly<Record<BuiltinImageName, BuiltinSpec>> = {
  busybox: { description: 'shell and applets', programs: [], cmd: ['sh'] },
  kv: {
    description: 'key-value server and client',
    programs: ['kv-server', 'kv-client'],
    cmd: ['kv-server', '-p', '6379'],
    exposedPorts: ['6379/tcp'],
  },
  httpd: {
    description: 'HTTP file server, load generator and a page',
    programs: ['httpd', 'http-load'],
    files: [
      {
        path: '/var/www/index.html',
        type: 'file',
        mode: 0o644,
        content: text(
          '<!doctype html>\n<title>rcontainer</title>\n<p>Hello from httpd in an rcontainer.</p>\n',
        ),
      },
    ],
    cmd: ['httpd', '-p', '8080'],
    exposedPorts: ['8080/tcp'],
  },
  hackbench: {
    description: 'scheduler and IPC benchmark, with the lmbench-style latency probes',
    programs: ['hackbench', 'lmbench'],
    cmd: ['hackbench'],
  },
  build: {
    description: 'build-like workload with its compiler and linker',
    programs: ['build', 'cc', 'ld'],
    cmd: ['build', '10'],
  },
};

/** The default environment of built-in images (the PATH the libc searches by default). */
export const BUILTIN_ENV = ['PATH=/bin:/usr/bin:/sbin:/usr/sbin'] as const;
/** The label naming a built-in image. */
export const BUILTIN_LABEL = 'io.rcontainer.builtin';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

/** True when `name` (without a tag, or with `:latest`) is a built-in image. */
export function builtinName(ref: string): BuiltinImageName | undefined {
  const name = ref.endsWith(`:${DEFAULT_TAG}`) ? ref.slice(0, -DEFAULT_TAG.length - 1) : ref;
  return (BUILTIN_IMAGE_NAMES as readonly string[]).includes(name) ? (name as BuiltinImageName) : undefined;
}

function program(catalog: ProgramCatalog, name: string): LayerFile {
  if (!catalog.programNames.includes(name))
    throw new ImageError(`built-in images need program '${name}', which the catalogue lacks`);
  return { path: `/bin/${name}`, type: 'file', mode: 0o755, content: catalog.executableImage(name) };
}

/** The base layer every built-in image starts from. */
async function baseLayer(catalog: ProgramCatalog): Promise<BuiltLayer> {
  const dirs: LayerFile[] = ['/bin', '/dev', '/etc', '/home', '/proc', '/sys', '/usr/bin', '/var'].map(
    (path) => ({
      path,
      type: 'dir',
      mode: 0o755,
    }),
  );
  dirs.push({ path: '/root', type: 'dir', mode: 0o700 }, { path: '/tmp', type: 'dir', mode: 0o1777 });
  const files: LayerFile[] = [
    ...dirs,
    ...['sh', ...catalog.appletNames].map((name) => program(catalog, name)),
    { path: '/etc/passwd', type: 'file', mode: 0o644, content: text(PASSWD) },
    { path: '/etc/group', type: 'file', mode: 0o644, content: text(GROUP) },
  ];
  return {
    tar: await buildLayer(files),
    createdBy: 'rcontainer builtin: base (sh, applets, /etc/passwd, /etc/group)',
  };
}

/** Generate built-in image `name` (tagged `<name>:latest`), not yet stored. */
export async function buildBuiltinImage(
  name: BuiltinImageName,
  catalog: ProgramCatalog,
): Promise<StagedImport> {
  const spec = BUILTINS[name];
  const layers = [await baseLayer(catalog)];
  if (spec.programs.length > 0 || spec.files !== undefined) {
    const files = [...spec.programs.map((p) => program(catalog, p)), ...(spec.files ?? [])];
    layers.push({
      tar: await buildLayer(files),
      createdBy: `rcontainer builtin: ${name} (${spec.description})`,
    });
  }
  return assembleImage(
    layers,
    {
      cmd: spec.cmd,
      env: BUILTIN_ENV,
      workingDir: '/',
      ...(spec.exposedPorts !== undefined ? { exposedPorts: spec.exposedPorts } : {}),
      labels: { [BUILTIN_LABEL]: name },
    },
    [formatTag(name, DEFAULT_TAG)],
  );
}
