/**
 * Linear-time matching of a consumer subscription's `topic_pattern`.
 *
 * Clients send Java-style regular expressions (Confluent REST Proxy, Kafka's
 * `subscribe(Pattern)`); compiling them with `new RegExp` lets one request pin
 * the event loop with catastrophic backtracking. This module parses the
 * subset topic patterns use into a Thompson NFA and simulates it with state
 * sets, so a match costs O(name length × NFA size) whatever the pattern.
 * Syntax whose meaning differs between Java and JavaScript, or that an NFA
 * cannot express (backreferences, lookaround, possessive quantifiers), is
 * rejected rather than guessed.
 */
import { GatewayError } from '../errors.js';

/** Longest accepted topic_pattern, in UTF-16 code units. */
export const MAX_TOPIC_PATTERN_LENGTH = 256;
/** Largest NFA a pattern may expand to (bounded repeats are unrolled). */
export const MAX_TOPIC_PATTERN_STATES = 2_000;

const MAX_CODE_POINT = 0x10ffff;

/** Code points as sorted, disjoint inclusive ranges: [lo0, hi0, lo1, hi1, ...]. */
type CharSet = readonly number[];

function normalize(ranges: readonly number[]): CharSet {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i], ranges[i + 1]]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const last = out.length - 1;
    if (last > 0 && lo <= out[last] + 1) out[last] = Math.max(out[last], hi);
    else out.push(lo, hi);
  }
  return out;
}

function complement(set: CharSet): CharSet {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < set.length; i += 2) {
    if (set[i] > next) out.push(next, set[i] - 1);
    next = set[i + 1] + 1;
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT);
  return out;
}

function contains(set: CharSet, cp: number): boolean {
  for (let i = 0; i < set.length; i += 2) {
    if (cp < set[i]) return false;
    if (cp <= set[i + 1]) return true;
  }
  return false;
}

// Java's definitions (ASCII-only \d \w \s; `.` excludes Java's line terminators).
const DIGIT: CharSet = [0x30, 0x39];
const WORD: CharSet = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const SPACE: CharSet = [0x09, 0x0d, 0x20, 0x20];
const DOT = complement([0x0a, 0x0a, 0x0d, 0x0d, 0x85, 0x85, 0x2028, 0x2029]);
const SHORTHANDS: Readonly<Record<string, CharSet>> = {
  d: DIGIT,
  D: complement(DIGIT),
  w: WORD,
  W: complement(WORD),
  s: SPACE,
  S: complement(SPACE),
};
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { t: 0x09, n: 0x0a, r: 0x0d, f: 0x0c };

type Node =
  | { readonly kind: 'set'; readonly set: CharSet }
  | { readonly kind: 'seq'; readonly items: readonly Node[] }
  | { readonly kind: 'alt'; readonly options: readonly Node[] }
  | { readonly kind: 'repeat'; readonly item: Node; readonly min: number; readonly max: number };

/** One element of a character class: a single character (may bound a range) or a shorthand set. */
interface ClassAtom {
  readonly set: CharSet;
  readonly single: number | undefined;
}

function single(cp: number): ClassAtom {
  return { set: [cp, cp], single: cp };
}

function invalid(message: string, at?: number): GatewayError {
  const where = at === undefined ? '' : ` (at ${at})`;
  return new GatewayError('KGW_INVALID_REQUEST', `topic_pattern: ${message}${where}`);
}

/** Recursive-descent parser from pattern text to an AST; positions are UTF-16 indexes. */
class Parser {
  readonly #src: string;
  #pos = 0;

  constructor(src: string) {
    this.#src = src;
  }

  parse(): Node {
    const node = this.#alternation();
    // #alternation stops only at the end or at a ')' no group opened.
    if (this.#pos < this.#src.length) throw invalid("unmatched ')'", this.#pos);
    return node;
  }

  #peek(offset = 0): string {
    return this.#src.charAt(this.#pos + offset);
  }

  #alternation(): Node {
    const options = [this.#sequence()];
    while (this.#peek() === '|') {
      this.#pos++;
      options.push(this.#sequence());
    }
    return options.length === 1 ? options[0] : { kind: 'alt', options };
  }

  #sequence(): Node {
    const items: Node[] = [];
    while (this.#pos < this.#src.length && this.#peek() !== '|' && this.#peek() !== ')') {
      const atom = this.#atom(items);
      const quantifierAt = this.#pos;
      const quantifier = this.#quantifier();
      if (quantifier === null) {
        if (atom !== null) items.push(atom);
      } else if (atom === null) {
        const q = this.#src.charAt(quantifierAt);
        throw invalid(`dangling quantifier '${q}' (nothing to repeat)`, quantifierAt);
      } else {
        items.push({ kind: 'repeat', item: atom, ...quantifier });
      }
    }
    return items.length === 1 ? items[0] : { kind: 'seq', items };
  }

  /** The next atom; null for an anchor or an empty \Q\E. May push leading quoted literals to items. */
  #atom(items: Node[]): Node | null {
    const at = this.#pos;
    const ch = String.fromCodePoint(this.#src.codePointAt(at) ?? 0);
    switch (ch) {
      case '(':
        return this.#group();
      case '[':
        return this.#charClass();
      case '.':
        this.#pos++;
        return { kind: 'set', set: DOT };
      case '\\':
        if (this.#peek(1) === 'Q') return this.#quoted(items);
        return { kind: 'set', set: this.#escape(false).set };
      // Whole-name matching anchors every pattern, so ^ and $ at the edges change nothing.
      case '^':
        if (at !== 0) throw invalid("'^' is only supported at the start of the pattern", at);
        this.#pos++;
        return null;
      case '$':
        if (at !== this.#src.length - 1) {
          throw invalid("'$' is only supported at the end of the pattern", at);
        }
        this.#pos++;
        return null;
      case '*':
      case '+':
      case '?':
        throw invalid(`dangling quantifier '${ch}' (nothing to repeat)`, at);
      case '{':
        throw invalid("'{' with nothing to repeat; escape a literal '{' as \\{", at);
      default:
        this.#pos += ch.length;
        return { kind: 'set', set: single(ch.codePointAt(0) ?? 0).set };
    }
  }

  #group(): Node {
    const at = this.#pos;
    this.#pos++;
    if (this.#peek() === '?') {
      const rest = this.#src.slice(this.#pos + 1);
      if (rest.startsWith(':')) this.#pos += 2;
      else if (/^[=!]/.test(rest)) throw invalid('lookahead is not supported', at);
      else if (/^<[=!]/.test(rest)) throw invalid('lookbehind is not supported', at);
      else if (rest.startsWith('<')) throw invalid('named groups are not supported', at);
      else if (rest.startsWith('>')) throw invalid('atomic groups are not supported', at);
      else if (/^[a-zA-Z-]/.test(rest)) throw invalid('inline flags are not supported', at);
      else throw invalid("invalid group syntax after '(?'", at);
    }
    const inner = this.#alternation();
    if (this.#peek() !== ')') throw invalid("unclosed '('", at);
    this.#pos++;
    return inner;
  }

  /** Java's \Q...\E: everything up to \E (or the end) is literal; a quantifier binds to the last character. */
  #quoted(items: Node[]): Node | null {
    const start = this.#pos + 2;
    const end = this.#src.indexOf('\\E', start);
    const text = this.#src.slice(start, end < 0 ? undefined : end);
    this.#pos = end < 0 ? this.#src.length : end + 2;
    const literals = [...text].map((c): Node => ({
      kind: 'set',
      set: single(c.codePointAt(0) ?? 0).set,
    }));
    const last = literals.pop();
    items.push(...literals);
    return last ?? null;
  }

  #quantifier(): { min: number; max: number } | null {
    const at = this.#pos;
    let min: number;
    let max: number;
    switch (this.#peek()) {
      case '*':
        [min, max] = [0, Infinity];
        this.#pos++;
        break;
      case '+':
        [min, max] = [1, Infinity];
        this.#pos++;
        break;
      case '?':
        [min, max] = [0, 1];
        this.#pos++;
        break;
      case '{':
        [min, max] = this.#braces();
        break;
      default:
        return null;
    }
    // A lazy quantifier matches the same set of whole names as the greedy one.
    if (this.#peek() === '?') this.#pos++;
    // Possessive quantifiers never give back, so `a*+a` matches nothing: not the greedy language.
    else if (this.#peek() === '+') throw invalid('possessive quantifiers are not supported', at);
    if (/^[*+?{]$/.test(this.#peek())) {
      throw invalid(`dangling quantifier '${this.#peek()}' (nothing to repeat)`, this.#pos);
    }
    return { min, max };
  }

  #braces(): [number, number] {
    const at = this.#pos;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#src.slice(at));
    if (!m) throw invalid("invalid repetition; escape a literal '{' as \\{", at);
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > MAX_TOPIC_PATTERN_STATES || (m[3] !== '' && max > MAX_TOPIC_PATTERN_STATES)) {
      throw invalid(`repetition count above ${MAX_TOPIC_PATTERN_STATES}`, at);
    }
    if (max < min) throw invalid(`invalid repetition ${m[0]}: max below min`, at);
    this.#pos += m[0].length;
    return [min, max];
  }

  #charClass(): Node {
    const at = this.#pos;
    this.#pos++;
    const negate = this.#peek() === '^';
    if (negate) this.#pos++;
    // Java reads a leading ']' as a literal, JavaScript as an empty class.
    if (this.#peek() === ']') {
      throw invalid("empty character class; escape a literal ']' as \\]", this.#pos);
    }
    const ranges: number[] = [];
    // What the previous item was; Java and JavaScript read a '-' after a range or a
    // shorthand as a literal, but disagree on what follows (Java: [\d-a-z] has a-z).
    let prev: 'start' | 'char' | 'range' | 'shorthand' | 'dash-after-shorthand' = 'start';
    for (;;) {
      if (this.#pos >= this.#src.length) throw invalid("unclosed '['", at);
      const itemAt = this.#pos;
      const c = this.#peek();
      if (c === ']') break;
      if (c === '[') throw invalid('nested character classes are not supported', itemAt);
      if (c === '&' && this.#peek(1) === '&') {
        throw invalid('character class intersection (&&) is not supported', itemAt);
      }
      if (c === '-' && this.#peek(1) === '-' && (prev === 'range' || prev === 'shorthand')) {
        throw invalid("ambiguous '--' in character class; escape a literal '-' as \\-", itemAt);
      }
      const lo = this.#classAtom();
      if (lo.single !== undefined && this.#peek() === '-' && !/^\]?$/.test(this.#peek(1))) {
        if (prev === 'dash-after-shorthand') {
          throw invalid("ambiguous range after a shorthand and '-'; escape the '-' as \\-", itemAt);
        }
        this.#pos++;
        const hiAt = this.#pos;
        if (this.#peek() === '[') throw invalid('nested character classes are not supported', hiAt);
        const hi = this.#classAtom();
        if (hi.single === undefined) throw invalid('a range must end in a single character', hiAt);
        if (hi.single < lo.single) throw invalid('character range out of order', itemAt);
        ranges.push(lo.single, hi.single);
        prev = 'range';
      } else {
        ranges.push(...lo.set);
        if (lo.single === undefined) prev = 'shorthand';
        else if (c === '-' && prev === 'shorthand') prev = 'dash-after-shorthand';
        else prev = 'char';
      }
    }
    this.#pos++;
    const set = normalize(ranges);
    return { kind: 'set', set: negate ? complement(set) : set };
  }

  #classAtom(): ClassAtom {
    if (this.#peek() === '\\') return this.#escape(true);
    const cp = this.#src.codePointAt(this.#pos) ?? 0;
    this.#pos += cp > 0xffff ? 2 : 1;
    return single(cp);
  }

  #escape(inClass: boolean): ClassAtom {
    const at = this.#pos;
    this.#pos++;
    if (this.#pos >= this.#src.length) throw invalid('trailing backslash', at);
    const ch = String.fromCodePoint(this.#src.codePointAt(this.#pos) ?? 0);
    this.#pos += ch.length;
    const shorthand = SHORTHANDS[ch];
    if (shorthand) return { set: shorthand, single: undefined };
    const control = CONTROL_ESCAPES[ch];
    if (control !== undefined) return single(control);
    if (ch === 'x') return single(this.#hex(2, at));
    if (ch === 'u') return single(this.#hex(4, at));
    if (/^[1-9k]$/.test(ch)) throw invalid('backreferences are not supported', at);
    if (ch === '0') throw invalid('octal escapes are not supported', at);
    if (!inClass && /^[bBAzZG]$/.test(ch)) {
      throw invalid(`'\\${ch}' is not supported; only ^ at the start and $ at the end are`, at);
    }
    if (ch === 'p' || ch === 'P') throw invalid('Unicode property classes are not supported', at);
    if (ch === 'Q') throw invalid('\\Q...\\E is not supported inside a character class', at);
    if (ch === 'E') throw invalid("'\\E' without a preceding '\\Q'", at);
    if (/^[A-Za-z0-9]$/.test(ch)) {
      throw invalid(`unsupported escape '\\${ch}'${inClass ? ' in character class' : ''}`, at);
    }
    // Any other escaped character stands for itself: \. \- \\ \[ \] \{ ...
    return single(ch.codePointAt(0) ?? 0);
  }

  #hex(digits: number, at: number): number {
    const text = this.#src.slice(this.#pos, this.#pos + digits);
    if (text.length !== digits || !/^[0-9a-fA-F]+$/.test(text)) {
      throw invalid(
        `invalid \\${this.#src.charAt(at + 1)} escape (expects ${digits} hex digits)`,
        at,
      );
    }
    this.#pos += digits;
    return parseInt(text, 16);
  }
}

const CHAR = 0; // consumes one code point in `sets[s]`, then goes to out1
const SPLIT = 1; // epsilon to out1 and, if >= 0, out2
const MATCH = 2;

/** Thompson construction, compiled back to front so every fragment knows its continuation. */
class NfaBuilder {
  readonly kinds: number[] = [];
  readonly sets: (CharSet | null)[] = [];
  readonly out1: number[] = [];
  readonly out2: number[] = [];

  add(kind: number, set: CharSet | null, out1: number, out2: number): number {
    if (this.kinds.length >= MAX_TOPIC_PATTERN_STATES) {
      throw invalid(
        `pattern expands to more than ${MAX_TOPIC_PATTERN_STATES} NFA states; use smaller {n,m} counts`,
      );
    }
    this.kinds.push(kind);
    this.sets.push(set);
    this.out1.push(out1);
    this.out2.push(out2);
    return this.kinds.length - 1;
  }

  /** Adds states matching `node` then continuing at `next`; returns the entry state. */
  compile(node: Node, next: number): number {
    switch (node.kind) {
      case 'set':
        return this.add(CHAR, node.set, next, -1);
      case 'seq': {
        // An epsilon state even for empty sequences, so repeating `()` still costs states.
        if (node.items.length === 0) return this.add(SPLIT, null, next, -1);
        let entry = next;
        for (let i = node.items.length - 1; i >= 0; i--) entry = this.compile(node.items[i], entry);
        return entry;
      }
      case 'alt': {
        let entry = this.compile(node.options[node.options.length - 1], next);
        for (let i = node.options.length - 2; i >= 0; i--) {
          entry = this.add(SPLIT, null, this.compile(node.options[i], next), entry);
        }
        return entry;
      }
      case 'repeat':
        return this.#repeat(node.item, node.min, node.max, next);
    }
  }

  #repeat(item: Node, min: number, max: number, next: number): number {
    let entry = next;
    let required = min;
    if (max === Infinity) {
      // loop: either one more item (then back to loop) or on to next.
      const loop = this.add(SPLIT, null, -1, next);
      const body = this.compile(item, loop);
      this.out1[loop] = body;
      // x+ enters the body first, so the loop's copy counts as one required item.
      entry = min > 0 ? body : loop;
      required = Math.max(min - 1, 0);
    } else {
      // x{0,k} as nested options (x(x(x)?)?)?, linear in k.
      for (let i = min; i < max; i++)
        entry = this.add(SPLIT, null, this.compile(item, entry), next);
    }
    for (let i = 0; i < required; i++) entry = this.compile(item, entry);
    return entry;
  }
}

/** A built NFA in flat typed arrays, plus scratch space for simulating it. */
interface Nfa {
  readonly kinds: Uint8Array;
  readonly out1: Int32Array;
  readonly out2: Int32Array;
  readonly sets: readonly (CharSet | null)[];
  readonly start: number;
  readonly match: number;
  // A state is in the set being built when its mark equals the current generation.
  readonly marks: Uint32Array;
  readonly stack: Int32Array;
  current: Int32Array;
  next: Int32Array;
  generation: number;
}

function freeze(builder: NfaBuilder, start: number, match: number): Nfa {
  const size = builder.kinds.length;
  return {
    kinds: Uint8Array.from(builder.kinds),
    out1: Int32Array.from(builder.out1),
    out2: Int32Array.from(builder.out2),
    sets: builder.sets,
    start,
    match,
    marks: new Uint32Array(size),
    stack: new Int32Array(size),
    current: new Int32Array(size),
    next: new Int32Array(size),
    generation: 0,
  };
}

function nextGeneration(nfa: Nfa): number {
  if (nfa.generation === 0xffffffff) {
    nfa.marks.fill(0);
    nfa.generation = 0;
  }
  return ++nfa.generation;
}

/**
 * Appends to `list` (holding `count` states) the CHAR and MATCH states reachable
 * from `state` by epsilon moves; returns the new count. Marking on push keeps
 * every state on the stack at most once, so the stack never outgrows the NFA.
 */
function follow(
  nfa: Nfa,
  state: number,
  list: Int32Array,
  count: number,
  generation: number,
): number {
  const { kinds, out1, out2, marks, stack } = nfa;
  if (marks[state] === generation) return count;
  marks[state] = generation;
  let top = 0;
  stack[top++] = state;
  while (top > 0) {
    const s = stack[--top];
    if (kinds[s] !== SPLIT) {
      list[count++] = s;
      continue;
    }
    const second = out2[s];
    if (second >= 0 && marks[second] !== generation) {
      marks[second] = generation;
      stack[top++] = second;
    }
    const first = out1[s];
    if (marks[first] !== generation) {
      marks[first] = generation;
      stack[top++] = first;
    }
  }
  return count;
}

/** Thompson's simulation: one pass over the name, carrying the set of live states. */
function simulate(nfa: Nfa, topic: string): boolean {
  const { sets, out1 } = nfa;
  let count = follow(nfa, nfa.start, nfa.current, 0, nextGeneration(nfa));
  for (const ch of topic) {
    if (count === 0) return false;
    const cp = ch.codePointAt(0) ?? 0;
    const generation = nextGeneration(nfa);
    const { current, next } = nfa;
    let nextCount = 0;
    for (let i = 0; i < count; i++) {
      const s = current[i];
      const set = sets[s];
      if (set !== null && contains(set, cp))
        nextCount = follow(nfa, out1[s], next, nextCount, generation);
    }
    nfa.current = next;
    nfa.next = current;
    count = nextCount;
  }
  const { current, match } = nfa;
  for (let i = 0; i < count; i++) if (current[i] === match) return true;
  return false;
}

/** A compiled topic_pattern: matches whole topic names in time linear in name length × pattern size. */
export class TopicPattern {
  readonly source: string;
  // matches() is synchronous, so the NFA's scratch space is never shared by two calls.
  readonly #nfa: Nfa;

  private constructor(source: string, nfa: Nfa) {
    this.source = source;
    this.#nfa = nfa;
  }

  /** Throws GatewayError('KGW_INVALID_REQUEST') for an invalid, unsupported or over-long pattern. */
  static compile(source: string): TopicPattern {
    if (source.length === 0) throw invalid('must not be empty');
    if (source.length > MAX_TOPIC_PATTERN_LENGTH) {
      throw invalid(`is longer than ${MAX_TOPIC_PATTERN_LENGTH} characters`);
    }
    const ast = new Parser(source).parse();
    const builder = new NfaBuilder();
    const match = builder.add(MATCH, null, -1, -1);
    const start = builder.compile(ast, match);
    return new TopicPattern(source, freeze(builder, start, match));
  }

  /** Whether the whole of `topic` matches, like `^(?:source)$`. */
  matches(topic: string): boolean {
    return simulate(this.#nfa, topic);
  }
}
