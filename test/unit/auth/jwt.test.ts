import { mkdtemp, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../../gateway/src/auth/jwt.js';

describe('JwtVerifier', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kgw-jwt-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function keyFile(
    kid: string,
  ): Promise<{ path: string; sign: (expSeconds: number) => Promise<string> }> {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const path = join(dir, 'jwks.json');
    await writeFile(
      path,
      JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256' }] }),
    );
    return {
      path,
      sign: (expSeconds) =>
        new SignJWT({ sub: 'alice' })
          .setProtectedHeader({ alg: 'ES256', kid })
          .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
          .sign(privateKey),
    };
  }

  const verifier = (path: string): JwtVerifier =>
    new JwtVerifier({
      jwks: path,
      clockSkewMs: 0,
      principalClaim: 'sub',
      groupsClaim: 'groups',
      timeoutMs: 1000,
    });

  it('remembers a verified token no longer than it is valid', async () => {
    const keys = await keyFile('k1');
    const v = verifier(keys.path);
    const token = await keys.sign(2);
    expect((await v.verify(token)).name).toBe('alice');
    expect((await v.verify(token)).name).toBe('alice');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'KGW_UNAUTHENTICATED' });
  });

  it('forgets what it verified when the JWKS file changes: a removed key stops working', async () => {
    const first = await keyFile('k1');
    const v = verifier(first.path);
    const token = await first.sign(600);
    expect((await v.verify(token)).name).toBe('alice');
    await keyFile('k2'); // rewrites the file with another key only
    const later = new Date(Date.now() + 5000);
    await utimes(first.path, later, later); // a distinct mtime even on a coarse clock
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the file is looked at once a second
    await expect(v.verify(token)).rejects.toThrow(/no key of the key set matches it/);
  });
});
