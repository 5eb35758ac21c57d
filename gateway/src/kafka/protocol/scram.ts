import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

const HASHES: Readonly<Record<ScramMechanism, { name: string; bytes: number }>> = {
  'SCRAM-SHA-256': { name: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { name: 'sha512', bytes: 64 },
};

/** Kafka's brokers accept 4096..16384 (ScramMechanism); a server asking for more is refused. */
const MAX_ITERATIONS = 16_384;

/** RFC 5802 §5.1: ',' and '=' in a user name are escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function attributes(message: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) result.set(part[0]!, part.slice(2));
  }
  return result;
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i += 1) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * The client side of one SCRAM exchange (RFC 5802, RFC 7677; no channel
 * binding, as Kafka): client-first, then client-final from the server's
 * first message, then the server's signature checked. The password is used
 * as UTF-8 bytes, like Kafka's own clients (no SASLprep).
 */
export class ScramClient {
  readonly #hash: { name: string; bytes: number };
  readonly #username: string;
  readonly #password: string;
  readonly #nonce: string;
  #authMessage = '';
  #serverSignature: Buffer | undefined;

  constructor(mechanism: ScramMechanism, username: string, password: string, nonce?: string) {
    this.#hash = HASHES[mechanism];
    this.#username = username;
    this.#password = password;
    this.#nonce = nonce ?? randomBytes(24).toString('base64');
  }

  #firstBare(): string {
    return `n=${saslName(this.#username)},r=${this.#nonce}`;
  }

  first(): string {
    return `n,,${this.#firstBare()}`;
  }

  /** Answers the server's first message; rejects one that does not extend our nonce. */
  async final(serverFirst: string): Promise<string> {
    const attrs = attributes(serverFirst);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (attrs.has('e')) throw new Error(`the server refused: ${attrs.get('e')}`);
    if (!nonce || !nonce.startsWith(this.#nonce) || nonce.length === this.#nonce.length)
      throw new Error('the server answered with a nonce that does not extend ours');
    if (!salt) throw new Error('the server sent no salt');
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS)
      throw new Error(`the server asked for ${attrs.get('i')} iterations`);
    const { name, bytes } = this.#hash;
    const salted = await pbkdf2Async(
      this.#password,
      Buffer.from(salt, 'base64'),
      iterations,
      bytes,
      name,
    );
    const hmac = (key: Buffer, text: string): Buffer =>
      createHmac(name, key).update(text, 'utf8').digest();
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash(name).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    this.#authMessage = `${this.#firstBare()},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(storedKey, this.#authMessage));
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), this.#authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server's final message: it proves the server knows the credential too. */
  verify(serverFinal: string): void {
    const attrs = attributes(serverFinal);
    if (attrs.has('e')) throw new Error(`the server refused: ${attrs.get('e')}`);
    const signature = Buffer.from(attrs.get('v') ?? '', 'base64');
    const expected = this.#serverSignature;
    if (!expected || signature.length !== expected.length || !timingSafeEqual(signature, expected))
      throw new Error("the server's signature does not match: it does not hold our credential");
  }
}
