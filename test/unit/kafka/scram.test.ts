import { describe, expect, it } from 'vitest';
import { ScramClient } from '../../../gateway/src/kafka/protocol/scram.js';

// RFC 7677 §3: the SCRAM-SHA-256 example exchange (user "user", password "pencil").
const NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST =
  'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL =
  'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('ScramClient', () => {
  it("reproduces RFC 7677's SCRAM-SHA-256 exchange and accepts the server's signature", async () => {
    const client = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', NONCE);
    expect(client.first()).toBe(`n,,n=user,r=${NONCE}`);
    expect(await client.final(SERVER_FIRST)).toBe(CLIENT_FINAL);
    expect(() => client.verify(SERVER_FINAL)).not.toThrow();
  });

  it('refuses a server signature that does not match (a server without our credential)', async () => {
    const client = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', NONCE);
    await client.final(SERVER_FIRST);
    expect(() => client.verify('v=AAAARBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(
      /signature does not match/,
    );
    expect(() => client.verify('e=invalid-proof')).toThrow(/refused: invalid-proof/);
  });

  it('refuses a server nonce that does not extend ours, and absurd iteration counts', async () => {
    const client = (): ScramClient => new ScramClient('SCRAM-SHA-512', 'user', 'pencil', NONCE);
    await expect(client().final('r=someoneelse,s=QQ==,i=4096')).rejects.toThrow(/nonce/);
    await expect(client().final(`r=${NONCE},s=QQ==,i=4096`)).rejects.toThrow(/nonce/);
    await expect(client().final(`r=${NONCE}x,s=QQ==,i=100000000`)).rejects.toThrow(/iterations/);
    await expect(client().final(`r=${NONCE}x,i=4096`)).rejects.toThrow(/salt/);
  });

  it("escapes ',' and '=' in the user name (RFC 5802 §5.1)", () => {
    expect(new ScramClient('SCRAM-SHA-512', 'a,b=c', 'p', 'n').first()).toBe('n,,n=a=2Cb=3Dc,r=n');
  });
});
