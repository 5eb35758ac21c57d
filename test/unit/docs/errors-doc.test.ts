import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GrpcStatus } from '../../../gateway/src/errors.js';
import { REPO_ROOT } from '../../support/stack.js';

const grpcName = Object.fromEntries(Object.entries(GrpcStatus).map(([name, n]) => [n, name]));

function documentedRows(): Map<string, string[]> {
  const text = readFileSync(join(REPO_ROOT, 'docs', 'ERRORS.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^\|\s*`(KGW_[A-Z_]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (match)
      rows.set(
        match[1]!,
        match[2]!.split('|').map((cell) => cell.trim()),
      );
  }
  return rows;
}

describe('docs/ERRORS.md', () => {
  const rows = documentedRows();

  it('documents exactly the codes in gateway/src/errors.ts', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it.each(Object.entries(ERROR_CODES))(
    'gives %s its HTTP status, error_code, gRPC status and retryability',
    (code, spec) => {
      const [http, errorCode, grpc, retryable] = rows.get(code) ?? [];
      expect({ http, errorCode, grpc, retryable }).toEqual({
        http: String(spec.http),
        errorCode: String(spec.errorCode),
        grpc: grpcName[spec.grpc],
        retryable: spec.retryable ? 'yes' : 'no',
      });
    },
  );

  it('keeps error_code consistent with the HTTP status (Confluent convention)', () => {
    for (const spec of Object.values(ERROR_CODES)) {
      expect(Math.floor(spec.errorCode / 100)).toBe(spec.http);
    }
  });
});
