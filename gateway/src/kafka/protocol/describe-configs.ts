import type { ApiSpec } from './api-versions.js';
import type { ResponseReader } from './reader.js';
import type { RequestWriter } from './writer.js';

/** v0 is gone from Kafka 4 (KIP-896); v4+ are flexible. */
export const DESCRIBE_CONFIGS: ApiSpec = {
  key: 32,
  name: 'DescribeConfigs',
  minVersion: 1,
  maxVersion: 3,
};

/** Kafka's ConfigResource.Type numbers. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4 } as const;

/** Kafka's DescribeConfigsResponse.ConfigSource numbers, by the names Confluent's v3 API shows. */
export const CONFIG_SOURCES: Readonly<Record<number, string>> = {
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
  7: 'CLIENT_METRICS_CONFIG',
  8: 'GROUP_CONFIG',
};
export const DEFAULT_CONFIG_SOURCE = 5;

export interface DescribeConfigsResource {
  readonly type: number;
  readonly name: string;
  /** null: every config of the resource. */
  readonly keys: readonly string[] | null;
}

export interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

export interface ConfigEntry {
  readonly name: string;
  /** null when the broker hides it (sensitive) or it has no value. */
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly source: number;
  readonly sensitive: boolean;
  readonly synonyms: readonly ConfigSynonym[];
}

export interface DescribeConfigsResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: readonly ConfigEntry[];
}

export function encodeDescribeConfigsRequest(
  writer: RequestWriter,
  version: number,
  resources: readonly DescribeConfigsResource[],
  includeSynonyms: boolean,
): void {
  writer.array(resources, (w, r) => {
    w.int8(r.type).string(r.name);
    if (r.keys === null) w.int32(-1);
    else w.array(r.keys, (kw, k) => kw.string(k));
  });
  writer.boolean(includeSynonyms); // v1+, and this client speaks no v0
  if (version >= 3) writer.boolean(false); // include_documentation
}

export function decodeDescribeConfigsResponse(
  reader: ResponseReader,
  version: number,
): DescribeConfigsResult[] {
  reader.int32(); // throttle_time_ms
  return reader.array((r) => ({
    errorCode: r.int16(),
    errorMessage: r.nullableString(),
    resourceType: r.int8(),
    resourceName: r.string(),
    configs: r.array((cr) => {
      const name = cr.string();
      const value = cr.nullableString();
      const readOnly = cr.boolean();
      const source = cr.int8();
      const sensitive = cr.boolean();
      const synonyms = cr.array((sr) => ({
        name: sr.string(),
        value: sr.nullableString(),
        source: sr.int8(),
      }));
      if (version >= 3) {
        cr.int8(); // config_type
        cr.nullableString(); // documentation
      }
      return { name, value, readOnly, source, sensitive, synonyms };
    }),
  }));
}
