import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../gateway/src/config/load-config.js';
import { createLogger } from '../../../gateway/src/observability/logger.js';

/** A logger writing into a string, and that string. */
function captured(): { log: ReturnType<typeof createLogger>; output: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { log: createLogger('info', sink), output: () => text };
}

describe('log redaction', () => {
  it('never writes credentials: auth headers, API keys, the Kafka and Redis passwords', () => {
    const { log, output } = captured();
    const config = loadConfig({
      KGW_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      KGW_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KGW_KAFKA_SASL_USERNAME: 'gateway',
      KGW_KAFKA_SASL_PASSWORD: 'kafka-secret-1',
      REDIS_URL: 'redis://gateway:redis-secret-2@127.0.0.1:6379',
    });
    log.info({ ...config }, 'config');
    log.info(
      {
        req: {
          headers: {
            authorization: 'Bearer token-secret-3',
            'x-api-key': 'key-secret-4',
            cookie: 'c=cookie-secret-5',
          },
        },
        tls: { keyPassword: 'key-password-6' },
        sasl: { password: 'sasl-secret-7' },
      },
      'request',
    );
    const text = output();
    expect(text).toContain('"msg":"config"');
    for (const secret of [
      'secret-1',
      'secret-2',
      'secret-3',
      'secret-4',
      'secret-5',
      'password-6',
      'secret-7',
    ])
      expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
});
