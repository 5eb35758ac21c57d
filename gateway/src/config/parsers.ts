/** Parsers for configuration values; each throws a plain Error saying what is wrong. */

export type Parser<T> = (raw: string) => T;

export function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`'${raw}' is not an integer`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`${value} is outside ${min}..${max}`);
    return value;
  };
}

export const port: Parser<number> = integer(0, 65535);

export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const value = raw.trim() as T;
    if (!values.includes(value)) throw new Error(`'${raw}' is not one of ${values.join(', ')}`);
    return value;
  };
}

/** Empty (not set), or one of `values`. */
export function optionalOneOf<const T extends string>(values: readonly T[]): Parser<T | ''> {
  return (raw) => {
    const value = raw.trim();
    if (value === '') return '';
    if (!values.includes(value as T))
      throw new Error(`'${raw}' is not one of ${values.join(', ')}`);
    return value as T;
  };
}

export const nonEmpty: Parser<string> = (raw) => {
  const value = raw.trim();
  if (value === '') throw new Error('must not be empty');
  return value;
};

/** A comma-separated list of host:port pairs. */
export const hostPortList: Parser<readonly string[]> = (raw) => {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error('must list at least one host:port');
  for (const item of items) {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(item);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new Error(`'${item}' is not host:port`);
    }
  }
  return Object.freeze(items);
};

/** A redis:// or rediss:// URL. */
export const redisUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`'${raw}' is not a URL`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`'${raw}' must start with redis:// or rediss://`);
  }
  return url.toString();
};

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A duration such as `86400` (seconds), `500ms`, `30s`, `15m`, `24h` or `7d`, in milliseconds. */
export function duration(minMs: number, maxMs: number): Parser<number> {
  return (raw) => {
    const match = /^(\d+)(ms|s|m|h|d)?$/.exec(raw.trim());
    if (!match) throw new Error(`'${raw}' is not a duration like 30s, 15m or 24h`);
    const ms = Number(match[1]) * DURATION_UNITS[match[2] ?? 's']!;
    if (ms < minMs || ms > maxMs) throw new Error(`${raw} is outside ${minMs} ms..${maxMs} ms`);
    return ms;
  };
}

/** Any string, trimmed; empty means "not set". */
export const optional: Parser<string> = (raw) => raw.trim();

/** An http(s) URL without a trailing slash. */
export const httpUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`'${raw}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`'${raw}' must start with http:// or https://`);
  return url.toString().replace(/\/+$/, '');
};

/** Empty ("not set"), or an http(s) URL as httpUrl parses it. */
export const optionalHttpUrl: Parser<string> = (raw) => (raw.trim() === '' ? '' : httpUrl(raw));

/** true/false (also 1/0, yes/no). */
export const boolean: Parser<boolean> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no', ''].includes(value)) return false;
  throw new Error(`'${raw}' is not true or false`);
};

/** A comma-separated list of some of `values`; empty or 'none' is the empty list. */
export function someOf<const T extends string>(values: readonly T[]): Parser<readonly T[]> {
  return (raw) => {
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '' && item !== 'none');
    for (const item of items)
      if (!values.includes(item as T))
        throw new Error(`'${item}' is not one of ${values.join(', ')} (or none)`);
    return [...new Set(items)] as T[];
  };
}

/** `auto` (whatever `auto()` says, capped at max), or an integer in min..max. */
export function integerOrAuto(min: number, max: number, auto: () => number): Parser<number> {
  const explicit = integer(min, max);
  return (raw) =>
    raw.trim().toLowerCase() === 'auto' ? Math.min(max, Math.max(min, auto())) : explicit(raw);
}
