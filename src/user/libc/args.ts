/**
 * Command-line option parsing (pure), getopt-style: clustered short flags (`-la`), short options
 * with a value attached or separate (`-n5`, `-n 5`), long options (`--loops 5`, `--loops=5`),
 * `--` to end options; a lone `-` is an operand.
 */

/** Which options a program takes. */
export interface OptionSpec {
  /** Short letters of boolean flags ("laf1"). */
  readonly flags?: string;
  /** Short letters of options that take a value ("np"). */
  readonly values?: string;
  /** Long option names and the short letter each stands for ({ groups: 'g' }). */
  readonly long?: Readonly<Record<string, string>>;
  /** Stop at the first operand (the rest are operands: `env A=1 cmd -x`, `kv-client SET k v`). */
  readonly stopAtOperand?: boolean;
}

/** The result of {@link parseArgs}. */
export interface ParsedArgs {
  /** Boolean flags seen (by short letter). */
  readonly flags: Set<string>;
  /** Option values (by short letter; the last one wins). */
  readonly values: Map<string, string>;
  /** Operands in order. */
  readonly operands: string[];
  /** A usage error ("invalid option -- 'x'"), if any. */
  readonly error?: string;
}

/** Parse `args` (argv without argv[0]) according to `spec`. */
export function parseArgs(args: readonly string[], spec: OptionSpec): ParsedArgs {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const operands: string[] = [];
  const flagLetters = spec.flags ?? '';
  const valueLetters = spec.values ?? '';
  const result = (error?: string): ParsedArgs =>
    error === undefined ? { flags, values, operands } : { flags, values, operands, error };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const letter = spec.long?.[name];
      if (letter === undefined) return result(`unrecognized option '--${name}'`);
      if (valueLetters.includes(letter)) {
        let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
        if (value === undefined) value = args[++i];
        if (value === undefined) return result(`option '--${name}' requires an argument`);
        values.set(letter, value);
      } else {
        if (eq >= 0) return result(`option '--${name}' doesn't allow an argument`);
        flags.add(letter);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        if (valueLetters.includes(letter)) {
          const value = j + 1 < arg.length ? arg.slice(j + 1) : args[++i];
          if (value === undefined) return result(`option requires an argument -- '${letter}'`);
          values.set(letter, value);
          break;
        }
        if (!flagLetters.includes(letter)) return result(`invalid option -- '${letter}'`);
        flags.add(letter);
      }
      continue;
    }
    operands.push(arg);
    if (spec.stopAtOperand === true) {
      operands.push(...args.slice(i + 1));
      break;
    }
  }
  return result();
}

/** A non-negative decimal integer, or undefined. */
export function parseCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A non-negative decimal number (fractions allowed: "0.5"), or undefined. */
export function parseDecimal(text: string | undefined): number | undefined {
  if (text === undefined || !/^(\d+\.?\d*|\.\d+)$/.test(text)) return undefined;
  return Number(text);
}
