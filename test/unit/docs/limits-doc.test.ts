import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MAX_ASSIGNMENT_PARTITIONS,
  MAX_SUBSCRIPTION_TOPICS,
} from '../../../gateway/src/core/session-service.js';
import {
  MAX_TOPIC_PATTERN_LENGTH,
  MAX_TOPIC_PATTERN_STATES,
} from '../../../gateway/src/core/topic-pattern.js';
import { MAX_PASSTHROUGH_PROPERTIES } from '../../../gateway/src/http/routes/consumers.js';
import { MAX_PATH_PARAM_LENGTH, REQUEST_ID } from '../../../gateway/src/http/server.js';
import { MAX_JSON_DEPTH } from '../../../gateway/src/util/json-depth.js';
import { REPO_ROOT } from '../../support/stack.js';

const doc = readFileSync(join(REPO_ROOT, 'docs', 'LIMITS.md'), 'utf8');

/** The table row that names `where` (a constant), as one line. */
function row(where: string): string {
  const line = doc.split('\n').find((l) => l.startsWith('|') && l.includes(where));
  expect(line, `docs/LIMITS.md has no row naming ${where}`).toBeDefined();
  return line!;
}

describe('docs/LIMITS.md', () => {
  it('states the fixed bounds the code enforces', () => {
    expect(row('MAX_JSON_DEPTH')).toContain(`${MAX_JSON_DEPTH} levels`);
    expect(row('MAX_SUBSCRIPTION_TOPICS')).toContain(`| ${MAX_SUBSCRIPTION_TOPICS} `);
    expect(row('MAX_ASSIGNMENT_PARTITIONS')).toContain(`| ${MAX_ASSIGNMENT_PARTITIONS} `);
    expect(row('MAX_PASSTHROUGH_PROPERTIES')).toContain(`| ${MAX_PASSTHROUGH_PROPERTIES} per`);
    expect(row('MAX_PATH_PARAM_LENGTH')).toContain(`${MAX_PATH_PARAM_LENGTH} characters`);
    expect(row('REQUEST_ID')).toContain('1–128 characters of `[A-Za-z0-9._:-]`');
    expect(REQUEST_ID.source).toBe('^[A-Za-z0-9._:-]{1,128}$');
    expect(row('core/topic-pattern.ts')).toContain(
      `${MAX_TOPIC_PATTERN_LENGTH} characters, ${MAX_TOPIC_PATTERN_STATES} automaton states`,
    );
  });

  it('names every KGW_MAX_* and timeout setting of the configuration', () => {
    const schema = readFileSync(join(REPO_ROOT, 'gateway', 'src', 'config', 'schema.ts'), 'utf8');
    const names = [
      ...schema.matchAll(/'(KGW_(?:MAX_[A-Z_]+|[A-Z_]*BODY[A-Z_]*|HEADERS_TIMEOUT_MS))'/g),
    ]
      .map((m) => m[1]!)
      .filter((name) => name !== 'KGW_MAX_GROUP_CLIENTS');
    expect(names.length).toBeGreaterThan(5);
    for (const name of names)
      expect(doc, `docs/LIMITS.md does not mention ${name}`).toContain(name);
  });
});
