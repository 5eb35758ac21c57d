// Authentication on HTTP and gRPC against the real stack: API keys (hashed in
// a file, rotated without a restart), JWT bearer tokens checked against a
// JWKS (signature, issuer, audience, expiry), and client certificates over
// HTTPS (mutual TLS). Every refusal is 401 KGW_UNAUTHENTICATED.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSigned, signedBy } from '../../support/certificates.js';
import { hashApiKey } from '../../../gateway/src/auth/api-keys.js';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { closeAllGrpcClients, gatewayClient, unary } from '../../support/grpc-client.js';
import { createTopic } from '../../support/kafka.js';
import { eventually } from '../../support/eventually.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'kafka-gateway';

describe('authentication', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-auth-'));
  const keysFile = join(dir, 'keys.json');
  const jwksFile = join(dir, 'jwks.json');
  let signer: CryptoKey;
  let impostor: CryptoKey;
  let gw: RunningGateway;

  const writeKeys = (entries: Array<{ principal: string; key: string }>) =>
    writeFileSync(
      keysFile,
      JSON.stringify({
        keys: entries.map((e) => ({ principal: e.principal, sha256: hashApiKey(e.key) })),
      }),
    );
  /** A JWT as the issuer makes them, with one thing changed to test its refusal. */
  const signed = async (
    change: {
      audience?: string;
      expiresAt?: number | string;
      alg?: string;
      key?: CryptoKey | Uint8Array;
    } = {},
  ) =>
    new SignJWT({ groups: ['team-a'] })
      .setProtectedHeader({ alg: change.alg ?? 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(change.audience ?? AUDIENCE)
      .setSubject('bob')
      .setIssuedAt()
      .setExpirationTime(change.expiresAt ?? '5m')
      .sign(change.key ?? signer);
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { headers }).then(async (res) => ({
      status: res.status,
      challenge: res.headers.get('www-authenticate'),
      body: (await res.json()) as { code?: string; message?: string },
    }));

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signer = pair.privateKey;
    impostor = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
    writeKeys([{ principal: 'alice', key: 'alice-secret-1' }]);
    gw = await startGateway({
      KGW_AUTH: 'api-key,jwt',
      KGW_AUTH_API_KEYS_FILE: keysFile,
      KGW_AUTH_JWKS: jwksFile,
      KGW_AUTH_JWT_ISSUER: ISSUER,
      KGW_AUTH_JWT_AUDIENCE: AUDIENCE,
      KGW_AUTH_JWT_CLOCK_SKEW_MS: '5000',
      // These tests fail authentication on purpose, often: no failure budget here (quotas.test.ts).
      KGW_AUTH_FAILURES_PER_MINUTE: '0',
    });
    await eventually(async () => expect((await fetch(`${gw.url}/readyz`)).status).toBe(200));
  });
  afterAll(async () => {
    closeAllGrpcClients();
    await closeAllGateways();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a request without credentials with 401 and a challenge, but serves the probes', async () => {
    const res = await get('/topics');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('KGW_UNAUTHENTICATED');
    expect(res.challenge).toBe('Bearer, ApiKey');
    expect((await get('/healthz')).status).toBe(200);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
    // Unknown paths too: nothing is discovered without credentials.
    expect((await get('/no/such/path')).status).toBe(401);
  });

  it('accepts an API key in X-API-Key or Authorization: ApiKey, refuses an unknown one', async () => {
    expect((await get('/topics', { 'x-api-key': 'alice-secret-1' })).status).toBe(200);
    expect((await get('/topics', { authorization: 'ApiKey alice-secret-1' })).status).toBe(200);
    // Without a policy file an authenticated principal may read the operator endpoints.
    const metrics = await fetch(`${gw.url}/metrics`, {
      headers: { 'x-api-key': 'alice-secret-1' },
    });
    expect(metrics.status).toBe(200);
    await metrics.arrayBuffer();
    const wrong = await get('/topics', { 'x-api-key': 'alice-secret-2' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toContain('API key is not valid');
  });

  it('rotates keys without a restart: a new key works and a removed one is revoked', async () => {
    writeKeys([
      { principal: 'alice', key: 'alice-secret-1' },
      { principal: 'alice', key: 'alice-secret-2' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await get('/topics', { 'x-api-key': 'alice-secret-2' })).status).toBe(200);
    writeKeys([{ principal: 'alice', key: 'alice-secret-2' }]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await get('/topics', { 'x-api-key': 'alice-secret-1' })).status).toBe(401);
    expect((await get('/topics', { 'x-api-key': 'alice-secret-2' })).status).toBe(200);
  });

  it('accepts a JWT signed by the JWKS and refuses a bad signature, audience, expiry or algorithm', async () => {
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    expect((await get('/topics', bearer(await signed()))).status).toBe(200);
    const cases: Array<[string, string, string]> = [
      ['bad signature', await signed({ key: impostor }), 'signature does not verify'],
      ['wrong audience', await signed({ audience: 'someone-else' }), "'aud' claim"],
      ['expired', await signed({ expiresAt: Math.floor(Date.now() / 1000) - 60 }), 'expired'],
      [
        'HMAC',
        await signed({
          alg: 'HS256',
          key: new TextEncoder().encode('a shared secret of at least 32 bytes!!'),
        }),
        'algorithm',
      ],
      ['garbage', 'not.a.jwt', 'malformed'],
    ];
    for (const [name, t, reason] of cases) {
      const res = await get('/topics', bearer(t));
      expect(res.status, name).toBe(401);
      expect(res.body.code, name).toBe('KGW_UNAUTHENTICATED');
      expect(res.body.message, name).toContain(reason);
    }
  });

  it('authenticates gRPC calls from metadata', async () => {
    const topic = await createTopic();
    const client = gatewayClient(gw.grpcAddress);
    const request = { topic, records: [{ value: Buffer.from('x') }] };
    await expect(unary(client, 'Produce', request)).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
    const withKey = new Metadata();
    withKey.set('x-api-key', 'alice-secret-2');
    await expect(unary(client, 'Produce', request, withKey)).resolves.toBeDefined();
    const withJwt = new Metadata();
    withJwt.set('authorization', `Bearer ${await signed()}`);
    await expect(unary(client, 'Produce', request, withJwt)).resolves.toBeDefined();
  });
});

describe('mutual TLS on HTTPS (KGW_AUTH=mtls)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-mtls-'));
  const file = (name: string) => join(dir, name);
  let url = '';

  beforeAll(async () => {
    selfSigned(dir, 'server', 'localhost', 'IP:127.0.0.1,DNS:localhost');
    selfSigned(dir, 'clients-ca');
    selfSigned(dir, 'other-ca');
    signedBy(dir, 'clients-ca', 'carol');
    signedBy(dir, 'other-ca', 'mallory');
    const gw = await startGateway({
      KGW_AUTH_FAILURES_PER_MINUTE: '0',
      KGW_AUTH: 'mtls',
      KGW_HTTP_TLS_CERT: file('server.pem'),
      KGW_HTTP_TLS_KEY: file('server.key'),
      KGW_HTTP_TLS_CLIENT_CA: file('clients-ca.pem'),
    });
    url = gw.url.replace('http://', 'https://');
  });
  afterAll(async () => {
    await closeAllGateways();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (as?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        `${url}/topics`,
        {
          ca: readFileSync(file('server.pem')),
          ...(as
            ? { cert: readFileSync(file(`${as}.pem`)), key: readFileSync(file(`${as}.key`)) }
            : {}),
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('names the caller by a certificate its CA signed, and refuses other CAs and no certificate', async () => {
    expect((await get('carol')).status).toBe(200);
    const other = await get('mallory');
    expect(other.status).toBe(401);
    expect(JSON.parse(other.body)).toMatchObject({ code: 'KGW_UNAUTHENTICATED' });
    expect((await get()).status).toBe(401);
  });
});
