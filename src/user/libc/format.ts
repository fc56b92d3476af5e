/**
 * printf-style formatting (pure): `%[flags][width][.precision]conversion` with flags `-`, `0`,
 * `+`, space; conversions d i u x X o c s f e g %. Width and precision may be `*` (taken from the
 * arguments). Produces a JS string; stdio.ts turns it into bytes in user memory.
 */

/** An argument of {@link format}. */
export type FormatArg = string | number | bigint;

const SPEC = /%([-0+ #]*)(\*|\d+)?(?:\.(\*|\d+))?([diuxXocsfeg%])/g;

function toNumber(arg: FormatArg | undefined): number {
  if (arg === undefined) return 0;
  if (typeof arg === 'number') return arg;
  if (typeof arg === 'bigint') return Number(arg);
  const n = Number(arg);
  return Number.isFinite(n) ? n : 0;
}

function toInteger(arg: FormatArg | undefined): bigint {
  if (typeof arg === 'bigint') return arg;
  const n = Math.trunc(toNumber(arg));
  return BigInt(Number.isFinite(n) ? n : 0);
}

function pad(body: string, width: number, flags: string, numeric: boolean): string {
  if (body.length >= width) return body;
  if (flags.includes('-')) return body.padEnd(width);
  if (numeric && flags.includes('0')) {
    const sign = /^[-+ ]/.test(body) ? body[0]! : '';
    const prefixMatch = /^[-+ ]?(0[xX])?/.exec(body);
    const prefix = prefixMatch?.[0] ?? sign;
    return prefix + body.slice(prefix.length).padStart(width - prefix.length, '0');
  }
  return body.padStart(width);
}

function signed(text: string, negative: boolean, flags: string): string {
  if (negative) return `-${text}`;
  if (flags.includes('+')) return `+${text}`;
  if (flags.includes(' ')) return ` ${text}`;
  return text;
}

function formatOne(
  conversion: string,
  flags: string,
  precision: number | undefined,
  arg: FormatArg | undefined,
) {
  switch (conversion) {
    case 'd':
    case 'i': {
      const value = toInteger(arg);
      let digits = (value < 0n ? -value : value).toString();
      if (precision !== undefined) digits = digits.padStart(precision, '0');
      return signed(digits, value < 0n, flags);
    }
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
      let value = toInteger(arg);
      if (value < 0n) value = BigInt.asUintN(64, value);
      const radix = conversion === 'u' ? 10 : conversion === 'o' ? 8 : 16;
      let digits = value.toString(radix);
      if (conversion === 'X') digits = digits.toUpperCase();
      if (precision !== undefined) digits = digits.padStart(precision, '0');
      if (flags.includes('#') && value !== 0n) {
        if (conversion === 'x') digits = `0x${digits}`;
        if (conversion === 'X') digits = `0X${digits}`;
        if (conversion === 'o') digits = `0${digits}`;
      }
      return digits;
    }
    case 'c':
      return typeof arg === 'string' ? arg.slice(0, 1) : String.fromCharCode(toNumber(arg));
    case 's': {
      const text = arg === undefined ? '' : String(arg);
      return precision === undefined ? text : text.slice(0, precision);
    }
    case 'f':
    case 'e':
    case 'g': {
      const value = toNumber(arg);
      const p = precision ?? 6;
      let text: string;
      if (!Number.isFinite(value)) text = Number.isNaN(value) ? 'nan' : 'inf';
      else if (conversion === 'f') text = Math.abs(value).toFixed(p);
      else if (conversion === 'e') text = cExponent(Math.abs(value).toExponential(p));
      else text = formatG(Math.abs(value), p === 0 ? 1 : p);
      return signed(text, value < 0 || Object.is(value, -0), flags);
    }
    default:
      return '%';
  }
}

/** JS exponent form "1.5e+2" as C writes it: "1.5e+02". */
function cExponent(text: string): string {
  return text.replace(/e([+-])(\d)$/, 'e$10$2');
}

function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  const exponent = Math.floor(Math.log10(value));
  if (exponent < -4 || exponent >= precision) {
    return cExponent(value.toExponential(precision - 1).replace(/\.?0+e/, 'e'));
  }
  const text = value.toFixed(Math.max(0, precision - 1 - exponent));
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** Format `args` according to the printf-style template `template`. */
export function format(template: string, ...args: FormatArg[]): string {
  let next = 0;
  return template.replace(
    SPEC,
    (_match, flags: string, width?: string, precision?: string, conversion?: string) => {
      if (conversion === '%') return '%';
      const widthValue = width === '*' ? toNumber(args[next++]) : width === undefined ? 0 : Number(width);
      const precisionValue =
        precision === '*' ? toNumber(args[next++]) : precision === undefined ? undefined : Number(precision);
      const conv = conversion ?? 's';
      const flagSet = widthValue < 0 ? `${flags}-` : flags;
      const body = formatOne(conv, flagSet, precisionValue, args[next++]);
      const numeric = conv !== 's' && conv !== 'c';
      return pad(
        body,
        Math.abs(widthValue),
        numeric && precisionValue !== undefined && conv !== 'f' ? flagSet.replace('0', '') : flagSet,
        numeric,
      );
    },
  );
}
