/**
 * The offset map a commit carries in Kafka's metadata string: which offsets
 * between the committed one and `next` are still unresolved (everything else
 * there was acked, dead-lettered or skipped), so a ledger lost with Redis is
 * rebuilt without delivering an acked record again (I5). Like Confluent's
 * Parallel Consumer, it picks the shorter of two encodings:
 *
 *   kgw1:<span>:r:<gap>.<len>,<gap>.<len>…  unresolved runs (base36; gap from the end of the previous run)
 *   kgw1:<span>:b:<base64url>                bitmap, bit i = offset committed+i is unresolved
 *
 * where span = next − committed (base36). An empty string means nothing is
 * resolved above the committed offset. The bitmap costs span/6 characters,
 * so a span of at most maxSpanFor(limit) always fits.
 */

const PREFIX = 'kgw1';

/** The widest span whose bitmap encoding fits in `limit` characters. */
export function maxSpanFor(limit: number): number {
  // header "kgw1:<span>:b:" is at most 20 characters; base64 holds 6 bits a character.
  return Math.max(0, Math.floor((limit - 20) * 6));
}

/** Encodes the unresolved offsets (ascending, each in [committed, next)). */
export function encodeOffsetMap(
  committed: number,
  next: number,
  unresolved: readonly number[],
): string {
  const span = next - committed;
  if (span <= 0 || unresolved.length === 0) return '';
  const head = `${PREFIX}:${span.toString(36)}:`;
  const runs: string[] = [];
  let end = committed; // one past the previous run
  for (let i = 0; i < unresolved.length;) {
    const start = unresolved[i]!;
    let j = i + 1;
    while (j < unresolved.length && unresolved[j] === unresolved[j - 1]! + 1) j += 1;
    runs.push(`${(start - end).toString(36)}.${(j - i).toString(36)}`);
    end = start + (j - i);
    i = j;
  }
  const byRuns = `${head}r:${runs.join(',')}`;
  // Compare lengths before building the bitmap: runs win whenever they are short.
  if (byRuns.length <= Math.ceil(span / 6) + head.length + 2) return byRuns;
  const bits = Buffer.alloc(Math.ceil(span / 8));
  for (const o of unresolved) {
    const i = o - committed;
    bits[i >> 3]! |= 1 << (i & 7);
  }
  return `${head}b:${bits.toString('base64url')}`;
}

/**
 * Decodes a committed offset's metadata: `next` and the offsets to deliver
 * again. Metadata the gateway did not write (another client's commit) means
 * nothing is known above the committed offset.
 */
export function decodeOffsetMap(
  committed: number,
  metadata: string,
): { next: number; unresolved: number[] } {
  const none = { next: committed, unresolved: [] };
  const parts = metadata.split(':');
  if (parts.length !== 4 || parts[0] !== PREFIX) return none;
  const span = parseInt(parts[1]!, 36);
  if (!Number.isSafeInteger(span) || span <= 0) return none;
  const next = committed + span;
  const unresolved: number[] = [];
  if (parts[2] === 'r') {
    let end = committed;
    for (const run of parts[3]!.split(',')) {
      const [gap, len] = run.split('.').map((x) => parseInt(x, 36));
      if (gap === undefined || len === undefined || !(gap >= 0) || !(len > 0)) return none;
      const start = end + gap;
      for (let o = start; o < start + len && o < next; o += 1) unresolved.push(o);
      end = start + len;
    }
  } else if (parts[2] === 'b') {
    const bits = Buffer.from(parts[3]!, 'base64url');
    for (let i = 0; i < span && i >> 3 < bits.length; i += 1)
      if (bits[i >> 3]! & (1 << (i & 7))) unresolved.push(committed + i);
  } else return none;
  return { next, unresolved };
}
