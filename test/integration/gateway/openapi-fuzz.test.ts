// Fuzzes every operation of /openapi.json with Schemathesis (from PyPI, pinned)
// against a gateway on the real Kafka and Redis: no server error, only the
// statuses and content types the document declares, bodies that match their
// schemas, 405 for undeclared methods. Two checks are left out, with reasons:
// positive_data_acceptance (the schema cannot say everything the gateway
// refuses by rule: a reused Idempotency-Key, binary values that are not
// base64, partitions given in the body of a GET as Confluent clients do) and
// negative_data_rejection (fastify coerces scalar types, e.g. "5" for 5, which
// Confluent clients rely on).
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { schemathesis } from '../../support/schemathesis.js';

describe('the OpenAPI document, fuzzed (Schemathesis)', () => {
  afterAll(closeAllGateways);

  it('finds no server error, no undeclared status or content type, no schema mismatch', async () => {
    const st = schemathesis();
    // Short long-polls, so a generated timeout does not outlast the client's.
    // Generous Redis/Kafka deadlines: on a busy CI machine (other suites run alongside) a
    // slow dependency must not show up as a 5xx the fuzzer counts against the API.
    const gw = await startGateway({
      KGW_MAX_POLL_TIMEOUT_MS: '1000',
      KGW_READY_TIMEOUT_MS: '10000',
      KGW_PRODUCE_TIMEOUT_MS: '20000',
      KGW_REQUEST_TIMEOUT_MS: '40000',
    });
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        st,
        [
          'run',
          `${gw.url}/openapi.json`,
          '--checks',
          'all',
          '--exclude-checks',
          'positive_data_acceptance,negative_data_rejection',
          '--max-examples',
          '20',
          '--seed',
          '20261202',
          '--request-timeout',
          '60',
          // One worker: Hypothesis on CPython 3.11 parses lambdas with ast.parse, which is not
          // thread-safe there ("AST constructor recursion depth mismatch" with two workers).
          '--workers',
          '1',
          // Hypothesis's health checks (slow generation, filtered data) are about the generator,
          // not the gateway; they made whole phases error out now and then.
          '--suppress-health-check',
          'all',
        ],
        {
          // Schemathesis keeps a .schemathesis/ cache in its working directory: not in the repo.
          cwd: tmpdir(),
          timeout: 240_000,
          maxBuffer: 20 * 1024 * 1024,
          env: { ...process.env, NO_COLOR: '1' },
        },
        (err, stdout, stderr) =>
          resolve({
            code: err ? ((err as { code?: number }).code ?? 1) : 0,
            output: `${stdout}${stderr}`,
          }),
      );
    });
    const summary = output.slice(output.lastIndexOf('SUMMARY'));
    console.log(
      summary
        .split('\n')
        .filter((l) => /generated|Failures|❌|passed|failures/.test(l))
        .join('\n'),
    );
    // On failure, show what Schemathesis found (the FAILURES and ERRORS sections), not only its summary.
    const found =
      output.indexOf('FAILURES') >= 0 ? output.indexOf('FAILURES') : output.indexOf('ERRORS');
    expect(code, output.slice(Math.max(0, found - 100), found + 8000) || output.slice(-6000)).toBe(
      0,
    );
    // Every operation of the document was exercised (no count to keep in step with the routes).
    const total = /Selected: (\d+)\/(\d+)/.exec(output)?.[2];
    expect(total).toBeDefined();
    expect(output).toMatch(new RegExp(`Tested: ${total}\\b`));
  }, 300_000);
});
