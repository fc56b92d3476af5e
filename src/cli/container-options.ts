/** The options of `run` and `create` that describe the container, as commander parses them. */
export interface ContainerCommandOptions {
  readonly name?: string;
  readonly env: string[];
  readonly workdir?: string;
  readonly user?: string;
  readonly hostname?: string;
  readonly memory?: string;
  /** `-v HOST_DIR:CONTAINER_DIR[:ro]`, repeated. */
  readonly volume?: string[];
  readonly execPolicy?: string;
  /** `-i` (run): this process's standard input becomes the container's, as it arrives. */
  readonly interactive?: boolean;
  /** `-t`: its standard streams are a terminal. */
  readonly tty?: boolean;
  /** `-p [127.0.0.1:]HOST_PORT:CONTAINER_PORT`, repeated (through the daemon only). */
  readonly publish?: string[];
  /** `--init`: the command runs under the image's tini. */
  readonly init?: boolean;
}
