import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { hashApiKey } from '../../../gateway/src/auth/api-keys.js';
import type { BenchStack } from './bench-stack.js';
import type { Cleanups } from './cleanups.js';
import { startGateway, type GatewayProcess } from './gateway-process.js';
import { v2Body } from './v2-produce-target.js';

export type AuthMode = 'none' | 'api-key' | 'jwt';

/** A gateway started with one KGW_AUTH setting, and the headers a caller authenticates with. */
export interface AuthGateway {
  readonly mode: AuthMode;
  readonly gateway: GatewayProcess;
  readonly headers: Readonly<Record<string, string>>;
}

const ISSUER = 'https://issuer.bench';
const AUDIENCE = 'kafka-gateway';
const PRINCIPAL = 'bench-producer';

/** Quotas off and a clean auth configuration besides KGW_AUTH, so only authentication differs. */
const COMMON_ENV = {
  KGW_QUOTA_REQUESTS_PER_SECOND: '0',
  KGW_QUOTA_RECORDS_PER_SECOND: '0',
  KGW_QUOTA_BYTES_PER_SECOND: '0',
};

/**
 * Starts three gateways, KGW_AUTH=none, api-key and jwt, with quotas off. The
 * API key is random and stored hashed in a keys file the way the gateway reads
 * it; the JWT is RS256, signed with `jose` by a key pair generated here whose
 * public half is the gateway's JWKS file (issuer and audience checked). One
 * token serves every request, as a client reuses its token until it expires.
 * The files live in a temporary directory removed by `cleanups`.
 */
export async function startAuthGateways(
  stack: BenchStack,
  cleanups: Cleanups,
): Promise<readonly AuthGateway[]> {
  const dir = await mkdtemp(join(tmpdir(), 'kgw-bench-auth-'));
  cleanups.add('remove the bench auth files', () => rm(dir, { recursive: true, force: true }));

  const apiKey = randomBytes(32).toString('base64url');
  const keysFile = join(dir, 'api-keys.json');
  await writeFile(
    keysFile,
    JSON.stringify({ keys: [{ principal: PRINCIPAL, sha256: hashApiKey(apiKey) }] }),
  );

  const pair = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const jwksFile = join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [jwk] }));
  const token = await new SignJWT({ groups: ['bench'] })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(PRINCIPAL)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(pair.privateKey);

  const settings: ReadonlyArray<{
    mode: AuthMode;
    env: Record<string, string>;
    headers: Record<string, string>;
  }> = [
    { mode: 'none', env: { KGW_AUTH: 'none' }, headers: {} },
    {
      mode: 'api-key',
      env: { KGW_AUTH: 'api-key', KGW_AUTH_API_KEYS_FILE: keysFile },
      headers: { 'x-api-key': apiKey },
    },
    {
      mode: 'jwt',
      env: {
        KGW_AUTH: 'jwt',
        KGW_AUTH_JWKS: jwksFile,
        KGW_AUTH_JWT_ISSUER: ISSUER,
        KGW_AUTH_JWT_AUDIENCE: AUDIENCE,
      },
      headers: { authorization: `Bearer ${token}` },
    },
  ];
  const gateways: AuthGateway[] = [];
  for (const { mode, env, headers } of settings) {
    const gateway = await startGateway(stack, cleanups, { ...COMMON_ENV, ...env });
    gateways.push({ mode, gateway, headers });
  }
  return gateways;
}

/**
 * One produce with the gateway's credentials must be written, and for an
 * authenticating gateway one without them must be refused with 401: otherwise
 * the numbers would not measure what they claim to.
 */
export async function checkAuthGateway(auth: AuthGateway, topic: string): Promise<void> {
  const produce = async (headers: Readonly<Record<string, string>>): Promise<number> => {
    const res = await request(`${auth.gateway.url}/topics/${encodeURIComponent(topic)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.binary.v2+json', ...headers },
      body: v2Body(Buffer.from('auth check'), 1),
    });
    await res.body.dump();
    return res.statusCode;
  };
  const withCredentials = await produce(auth.headers);
  if (withCredentials !== 200) {
    throw new Error(`KGW_AUTH=${auth.mode}: produce with credentials got HTTP ${withCredentials}`);
  }
  if (auth.mode !== 'none') {
    const without = await produce({});
    if (without !== 401) {
      throw new Error(`KGW_AUTH=${auth.mode}: produce without credentials got HTTP ${without}`);
    }
  }
}
