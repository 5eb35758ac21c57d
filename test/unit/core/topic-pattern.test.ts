import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../gateway/src/errors.js';
import {
  MAX_TOPIC_PATTERN_LENGTH,
  MAX_TOPIC_PATTERN_STATES,
  TopicPattern,
} from '../../../gateway/src/core/topic-pattern.js';

/** The native whole-name match the gateway used before; only for patterns that cannot backtrack badly. */
function nativeMatches(pattern: string, topic: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(topic);
}

function compileError(pattern: string): GatewayError {
  try {
    TopicPattern.compile(pattern);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error(`expected '${pattern}' to be rejected`);
}

describe('TopicPattern.matches agrees with RegExp on the supported subset', () => {
  it.each<[string, string, boolean]>([
    ['orders', 'orders', true],
    ['orders', 'orders2', false],
    ['orders', 'xorders', false],
    ['orders\\.v1', 'orders.v1', true],
    ['orders\\.v1', 'ordersXv1', false],
    ['orders.v1', 'ordersXv1', true],
    ['orders\\..*', 'orders.eu', true],
    ['orders\\..*', 'orders', false],
    ['^orders-.*$', 'orders-eu', true],
    ['^orders-.*$', 'xorders-eu', false],
    ['(orders|payments)\\.v[0-9]+', 'payments.v12', true],
    ['(orders|payments)\\.v[0-9]+', 'payments.v', false],
    ['(orders|payments)\\.v[0-9]+', 'refunds.v1', false],
    ['a|b|c', 'b', true],
    ['a|b|c', 'ab', false],
    ['^a|b$', 'b', true],
    ['^a|b$', 'ab', false],
    ['[a-c]+', 'abcab', true],
    ['[a-c]+', 'abd', false],
    ['[^a-c]+', 'xyz', true],
    ['[^a-c]+', 'xaz', false],
    ['[-._a-zA-Z0-9]+', 'My_topic-1.x', true],
    ['[\\w.-]+', 'a.b-c_d', true],
    ['[\\w.-]+', 'a.b c', false],
    ['[\\w-.]+', 'a-.b', true],
    ['[--.]+', '-.', true],
    ['[a-]', '-', true],
    ['[-a]', 'a', true],
    ['[a-c-e-g]', 'f', true],
    ['[a-c-e-g]', 'd', false],
    ['[\\d-z]', '-', true],
    ['[\\d.]+', '1.2', true],
    ['[^\\d]', '5', false],
    ['[^\\D]', '5', true],
    ['[\\]\\[]', ']', true],
    ['\\d{3}', '123', true],
    ['\\d{3}', '12', false],
    ['\\d{3}', '1234', false],
    ['\\D+', 'abc', true],
    ['\\D+', 'a1', false],
    ['\\w+', 'Ab_9', true],
    ['\\W', '.', true],
    ['\\W', '_', false],
    ['\\S+', 'a.b', true],
    ['\\s', 'a', false],
    ['a{2,}', 'a', false],
    ['a{2,}', 'aaaa', true],
    ['a{2,3}', 'aaa', true],
    ['a{2,3}', 'aaaa', false],
    ['a{0}b', 'b', true],
    ['a{0,2}b', 'aab', true],
    ['a{0,2}b', 'aaab', false],
    ['(ab){2}', 'abab', true],
    ['(ab){2}', 'ab', false],
    ['((a|b)c){2}d', 'acbcd', true],
    ['((a|b)c){2}d', 'acbd', false],
    ['(?:x(?:y|z)?)+', 'xxyxz', true],
    ['(?:x(?:y|z)?)+', 'xyz', false],
    ['(a(b(c|d)*)?)+e', 'abcdabae', true],
    ['(a(b(c|d)*)?)+e', 'abcdbe', false],
    ['a.*?b', 'axxb', true],
    ['a+?', 'aaa', true],
    ['a??b', 'b', true],
    ['a{1,2}?', 'aa', true],
    ['a(|b)c', 'ac', true],
    ['a(|b)c', 'abc', true],
    ['()*x', 'x', true],
    ['(a*)*b', 'aab', true],
    ['a\\-b', 'a-b', true],
    ['a\\\\b', 'a\\b', true],
    ['a\\.b', 'a.b', true],
    ['a\\.b', 'axb', false],
    ['\\x41\\u0042', 'AB', true],
    ['a]', 'a]', true],
    ['.', '', false],
    ['logs\\.(?:app|web)\\.[a-z]+-\\d{4}', 'logs.web.eu-2024', true],
    ['logs\\.(?:app|web)\\.[a-z]+-\\d{4}', 'logs.db.eu-2024', false],
  ])('%s ~ %s is %s', (pattern, topic, expected) => {
    expect(nativeMatches(pattern, topic)).toBe(expected);
    expect(TopicPattern.compile(pattern).matches(topic)).toBe(expected);
  });

  it('keeps the source', () => {
    expect(TopicPattern.compile('orders\\..*').source).toBe('orders\\..*');
  });

  it('reads Java \\Q...\\E quoting as literals, a quantifier binding to the last one', () => {
    const quoted = TopicPattern.compile('\\Qorders.v1\\E(-dlq)?');
    expect(quoted.matches('orders.v1')).toBe(true);
    expect(quoted.matches('orders.v1-dlq')).toBe(true);
    expect(quoted.matches('ordersXv1')).toBe(false);
    const starred = TopicPattern.compile('\\Qab\\E*');
    expect(starred.matches('abbb')).toBe(true);
    expect(starred.matches('a')).toBe(true);
    expect(starred.matches('abab')).toBe(false);
    expect(TopicPattern.compile('x\\Qa.b').matches('xa.b')).toBe(true);
  });
});

describe('TopicPattern.compile rejects', () => {
  it.each<[string, string]>([
    ['', 'topic_pattern: must not be empty'],
    ['(a)\\1', 'topic_pattern: backreferences are not supported (at 3)'],
    ['(a)\\k<n>', 'backreferences are not supported (at 3)'],
    ['(?<n>a)', 'named groups are not supported (at 0)'],
    ['a(?=b)', 'lookahead is not supported (at 1)'],
    ['a(?!b)', 'lookahead is not supported (at 1)'],
    ['(?<=a)b', 'lookbehind is not supported (at 0)'],
    ['(?<!a)b', 'lookbehind is not supported (at 0)'],
    ['(?i)orders', 'inline flags are not supported (at 0)'],
    ['(?i:orders)', 'inline flags are not supported (at 0)'],
    ['(?>a)', 'atomic groups are not supported (at 0)'],
    ['(?', "invalid group syntax after '(?' (at 0)"],
    ['(a', "unclosed '(' (at 0)"],
    ['((a)', "unclosed '(' (at 0)"],
    ['a)', "unmatched ')' (at 1)"],
    ['[ab', "unclosed '[' (at 0)"],
    ['[]a]', 'empty character class'],
    ['[^]', 'empty character class'],
    ['*a', "dangling quantifier '*' (nothing to repeat) (at 0)"],
    ['a|+', "dangling quantifier '+' (nothing to repeat) (at 2)"],
    ['(?)', "invalid group syntax after '(?' (at 0)"],
    ['a**', "dangling quantifier '*' (nothing to repeat) (at 2)"],
    ['a{2}{3}', "dangling quantifier '{' (nothing to repeat) (at 4)"],
    ['^*a', "dangling quantifier '*' (nothing to repeat) (at 1)"],
    ['{2}', "'{' with nothing to repeat"],
    ['a*+', 'possessive quantifiers are not supported (at 1)'],
    ['a{2}+', 'possessive quantifiers are not supported (at 1)'],
    ['a{', 'invalid repetition'],
    ['a{,3}', 'invalid repetition'],
    ['a{x}', 'invalid repetition'],
    ['a{3,2}', 'invalid repetition {3,2}: max below min (at 1)'],
    ['a{20000}', 'repetition count above 2000 (at 1)'],
    ['a^b', "'^' is only supported at the start of the pattern (at 1)"],
    ['a$b', "'$' is only supported at the end of the pattern (at 1)"],
    ['\\bfoo', "'\\b' is not supported"],
    ['foo\\z', "'\\z' is not supported"],
    ['\\p{L}+', 'Unicode property classes are not supported (at 0)'],
    ['a\\', 'trailing backslash (at 1)'],
    ['\\q', "unsupported escape '\\q' (at 0)"],
    ['[\\b]', "unsupported escape '\\b' in character class (at 1)"],
    ['\\0', 'octal escapes are not supported'],
    ['\\x4', 'invalid \\x escape (expects 2 hex digits) (at 0)'],
    ['\\u12', 'invalid \\u escape (expects 4 hex digits) (at 0)'],
    ['\\E', "'\\E' without a preceding '\\Q'"],
    ['[\\Qa\\E]', '\\Q...\\E is not supported inside a character class'],
    ['[[a]]', 'nested character classes are not supported (at 1)'],
    ['[a&&b]', 'character class intersection (&&) is not supported (at 2)'],
    ['[z-a]', 'character range out of order (at 1)'],
    ['[a-\\d]', 'a range must end in a single character (at 3)'],
    ['[\\d-a-z]', "ambiguous range after a shorthand and '-'"],
    ['[a-c--/]', "ambiguous '--' in character class"],
    ['(a{1000}){3}', 'expands to more than 2000 NFA states'],
    ['((){100}){21}', 'expands to more than 2000 NFA states'],
  ])('%s', (pattern, fragment) => {
    const err = compileError(pattern);
    expect(err.code).toBe('KGW_INVALID_REQUEST');
    expect(err.message).toContain(fragment);
    expect(err.message.startsWith('topic_pattern: ')).toBe(true);
  });

  it(`patterns longer than ${MAX_TOPIC_PATTERN_LENGTH} characters`, () => {
    expect(
      TopicPattern.compile('a'.repeat(MAX_TOPIC_PATTERN_LENGTH)).matches('a'.repeat(256)),
    ).toBe(true);
    const err = compileError('a'.repeat(MAX_TOPIC_PATTERN_LENGTH + 1));
    expect(err.code).toBe('KGW_INVALID_REQUEST');
    expect(err.message).toContain('longer than 256 characters');
  });
});

describe('TopicPattern is linear-time', () => {
  // 249 characters, the longest topic name, that almost matches.
  const name = `${'a'.repeat(248)}!`;

  it.each(['(a+)+$', '(a|aa)*b', '(.*a){20}', '(a*)*(a?){100}a{100}b'])(
    '%s fails fast on a 249-character near miss',
    (pattern) => {
      const compiled = TopicPattern.compile(pattern);
      const started = performance.now();
      expect(compiled.matches(name)).toBe(false);
      expect(performance.now() - started).toBeLessThan(200);
    },
  );

  it('stays fast at the state cap', () => {
    const compiled = TopicPattern.compile(`(?:.|[a-z]){1,${MAX_TOPIC_PATTERN_STATES / 5}}!`);
    const started = performance.now();
    expect(compiled.matches(name)).toBe(true);
    expect(compiled.matches(`${name}x`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('TopicPattern differential test against RegExp', () => {
  /** A 32-bit linear congruential generator (Numerical Recipes constants): fixed seed, same cases every run. */
  function lcg(seed: number): (n: number) => number {
    let state = seed >>> 0;
    return (n) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return Math.floor((state / 2 ** 32) * n);
    };
  }

  const pick = lcg(20_240_531);
  const choose = <T>(items: readonly T[]): T => items[pick(items.length)];
  const ATOMS = [
    'a',
    'b',
    '-',
    '.',
    '\\.',
    '\\-',
    '[ab]',
    '[^a]',
    '[a-b]',
    '[--.]',
    '[.-]',
    '[^.-]',
    '[\\w.]',
    '\\w',
    '\\W',
    '\\d',
    '\\D',
  ];
  const UNBOUNDED = ['*', '+', '*?', '+?', '{1,}', '{2,}'];
  const BOUNDED = ['?', '??', '{0}', '{2}', '{1,3}', '{0,2}', '{0,2}?'];

  /** No unbounded quantifier inside another, so the native RegExp never backtracks badly. */
  function pattern(depth: number, underUnbounded: boolean): string {
    if (depth === 0) return choose(ATOMS);
    switch (pick(5)) {
      case 0:
        return choose(ATOMS);
      case 1:
        return Array.from({ length: 1 + pick(3) }, () => pattern(depth - 1, underUnbounded)).join(
          '',
        );
      case 2: {
        const options = Array.from({ length: 2 + pick(2) }, () =>
          pick(8) === 0 ? '' : pattern(depth - 1, underUnbounded),
        );
        return `${choose(['(', '(?:'])}${options.join('|')})`;
      }
      default: {
        const unbounded = !underUnbounded && pick(2) === 0;
        const body = pattern(depth - 1, underUnbounded || unbounded);
        return `(?:${body})${choose(unbounded ? UNBOUNDED : BOUNDED)}`;
      }
    }
  }

  function topic(): string {
    return Array.from({ length: pick(8) }, () => choose(['a', 'b', '.', '-'])).join('');
  }

  it('agrees on 6,000 random (pattern, name) pairs', () => {
    let matched = 0;
    let compared = 0;
    for (let i = 0; i < 1_500; i++) {
      const source = pattern(1 + pick(4), false);
      const compiled = TopicPattern.compile(source);
      for (let j = 0; j < 4; j++) {
        const name = topic();
        const expected = nativeMatches(source, name);
        if (compiled.matches(name) !== expected) {
          expect.fail(`'${source}' on '${name}': expected ${expected}`);
        }
        compared++;
        if (expected) matched++;
      }
    }
    expect(compared).toBe(6_000);
    // Both outcomes are well represented, so the comparison means something.
    expect(matched).toBeGreaterThan(300);
    expect(compared - matched).toBeGreaterThan(300);
  });
});
