/**
 * Kafka's keyed-record partitioner, ported bit for bit from the Java client
 * (`org.apache.kafka.common.utils.Utils.murmur2` / `toPositive`) so a record
 * produced through the gateway lands on the same partition as one produced by
 * a Java producer with the same key. test/fixtures/murmur2-java.json, generated
 * by the real jar, is the oracle.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's murmur2 of `data`, as the signed 32-bit int Java returns. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  // Math.imul and `| 0` reproduce Java's wrapping int arithmetic; `>>>` is Java's `>>>`.
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    // `& 0xff` is a no-op on a Uint8Array but keeps the port line-for-line with Java,
    // where bytes are signed and must be masked.
    let k =
      (data[i4] & 0xff) |
      ((data[i4 + 1] & 0xff) << 8) |
      ((data[i4 + 2] & 0xff) << 16) |
      ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }

  // Java's `switch (length % 4)` falls through 3 → 2 → 1; the compiler forbids
  // fall-through here, so the cascade is spelled as ifs with the same effect.
  const tail = length & 3;
  const base = length & ~3;
  if (tail >= 3) h ^= (data[base + 2] & 0xff) << 16;
  if (tail >= 2) h ^= (data[base + 1] & 0xff) << 8;
  if (tail >= 1) {
    h ^= data[base] & 0xff;
    h = Math.imul(h, M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not Math.abs, which differs for MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's Java producer picks for a record with this key. */
export function keyPartition(key: Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
  }
  return toPositive(murmur2(key)) % numPartitions;
}
