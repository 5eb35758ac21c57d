import { ProtocolError, checkKafkaCode } from './errors.js';
import type { ResponseReader } from './reader.js';

/** One Kafka API and the non-flexible version range this client implements for it. */
export interface ApiSpec {
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** Version 0 is one every broker understands; it is non-flexible and its request body is empty. */
export const API_VERSIONS: ApiSpec = { key: 18, name: 'ApiVersions', minVersion: 0, maxVersion: 0 };

/** What the broker supports, by API key. */
export type SupportedVersions = ReadonlyMap<number, { readonly min: number; readonly max: number }>;

export function decodeApiVersionsResponse(reader: ResponseReader): SupportedVersions {
  const errorCode = reader.int16();
  const keys = reader.array((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
  checkKafkaCode(API_VERSIONS.name, errorCode, 'the connection');
  return new Map(keys.map((k) => [k.key, { min: k.min, max: k.max }]));
}

/**
 * The highest version both sides speak. Brokers drop old versions (Kafka 4.0
 * removed several, KIP-896) and this client implements no flexible ones, so
 * an empty overlap is possible and must fail loudly rather than guess.
 */
export function pickVersion(api: ApiSpec, supported: SupportedVersions): number {
  const broker = supported.get(api.key);
  if (!broker) throw new ProtocolError(`the broker does not support ${api.name}`);
  const version = Math.min(api.maxVersion, broker.max);
  if (version < api.minVersion || version < broker.min) {
    throw new ProtocolError(
      `the broker supports ${api.name} v${broker.min}-v${broker.max}; ` +
        `this client implements v${api.minVersion}-v${api.maxVersion}`,
    );
  }
  return version;
}
