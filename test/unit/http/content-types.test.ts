import { describe, expect, it } from 'vitest';
import {
  embeddedFormat,
  negotiate,
  V2_ANSWERS,
  V3_ANSWERS,
} from '../../../gateway/src/http/content-types.js';

describe('negotiate', () => {
  it.each([
    [undefined, V2_ANSWERS, 'application/vnd.kafka.v2+json'],
    ['', V2_ANSWERS, 'application/vnd.kafka.v2+json'],
    ['*/*', V2_ANSWERS, 'application/vnd.kafka.v2+json'],
    ['application/json', V2_ANSWERS, 'application/json'],
    ['application/vnd.kafka+json', V2_ANSWERS, 'application/vnd.kafka+json'],
    [
      'application/json;q=0.5, application/vnd.kafka+json',
      V2_ANSWERS,
      'application/vnd.kafka+json',
    ],
    ['application/octet-stream', V2_ANSWERS, undefined],
    ['application/*;q=0', V2_ANSWERS, undefined],
    ['application/*;q=0, application/json', V2_ANSWERS, 'application/json'],
    ['text/*, application/*;q=0.2', V3_ANSWERS, 'application/json'],
    ['application/vnd.kafka.v2+json', V3_ANSWERS, undefined],
  ] as const)('Accept %j of %j → %s', (accept, offered, chosen) => {
    expect(negotiate(accept, offered)).toBe(chosen);
  });
});

describe('embeddedFormat', () => {
  it.each([
    ['application/vnd.kafka.binary.v2+json', 'binary'],
    ['application/vnd.kafka.binary.v1+json; charset=utf-8', 'binary'],
    ['application/vnd.kafka.json.v1+json', 'json'],
    ['application/vnd.kafka+json', 'json'],
    [undefined, 'json'],
  ] as const)('%s → %s', (type, format) => {
    expect(embeddedFormat(type)).toBe(format);
  });
});
