/**
 * The process environment: a process-local copy of envp (getenv/setenv/unsetenv), handed to
 * execve as a fresh envp array.
 */

/** Environment variables in insertion order. */
export class Env {
  private readonly vars: Map<string, string>;

  constructor(entries: Iterable<[string, string]> = []) {
    this.vars = new Map(entries);
  }

  /** An environment from `NAME=value` strings (entries without `=` are ignored). */
  static fromStrings(strings: readonly string[]): Env {
    const env = new Env();
    for (const entry of strings) {
      const eq = entry.indexOf('=');
      if (eq > 0) env.vars.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return env;
  }

  /** getenv(3). */
  get(name: string): string | undefined {
    return this.vars.get(name);
  }

  /** setenv(3) (overwriting). */
  set(name: string, value: string): void {
    this.vars.set(name, value);
  }

  /** unsetenv(3). */
  unset(name: string): void {
    this.vars.delete(name);
  }

  /** Whether `name` is set. */
  has(name: string): boolean {
    return this.vars.has(name);
  }

  /** Names in insertion order. */
  names(): string[] {
    return [...this.vars.keys()];
  }

  /** `NAME=value` strings for execve. */
  toStrings(): string[] {
    return [...this.vars].map(([name, value]) => `${name}=${value}`);
  }

  /** An independent copy (for a forked child). */
  clone(): Env {
    return new Env(this.vars);
  }
}

/** The search path used when PATH is unset. */
export const DEFAULT_PATH = '/bin:/usr/bin:/sbin:/usr/sbin';
