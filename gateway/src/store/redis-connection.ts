import { readFileSync } from 'node:fs';
import type { RedisOptions } from 'ioredis';
import type { Config } from '../config/schema.js';

/** Where Redis is and how to reach it: the URL (with the password from its file) and TLS material. */
export interface RedisConnection {
  /** redis:// or rediss://; holds the password, so it is never logged. */
  readonly url: string;
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

/** Reads the password and TLS files named by the config, once, at boot. */
export function redisConnection(config: Config): RedisConnection {
  const url = new URL(config.redisUrl);
  // In the URL, not beside it: ioredis lets a URL's (even empty) password win over the option.
  if (config.redisPasswordFile)
    url.password = encodeURIComponent(readFileSync(config.redisPasswordFile, 'utf8').trim());
  const files = {
    ...(config.redisTlsCaFile ? { ca: readFileSync(config.redisTlsCaFile) } : {}),
    ...(config.redisTlsCertFile ? { cert: readFileSync(config.redisTlsCertFile) } : {}),
    ...(config.redisTlsKeyFile ? { key: readFileSync(config.redisTlsKeyFile) } : {}),
  };
  return {
    url: url.toString(),
    ...(url.protocol === 'rediss:' ? { tls: files } : {}),
  };
}

/** The ioredis options that carry a connection's TLS material (the URL carries the rest). */
export function redisSecurityOptions(connection: RedisConnection): Pick<RedisOptions, 'tls'> {
  return connection.tls ? { tls: { ...connection.tls } } : {};
}
