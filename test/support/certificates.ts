// Certificates for TLS tests, made with openssl in a test's own directory: `<dir>/<name>.pem`
// and `<dir>/<name>.key` (unencrypted PKCS#8), valid for a day.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const openssl = (...args: string[]): void => {
  execFileSync('openssl', args, { stdio: 'pipe' });
};

/**
 * A self-signed certificate for `cn` (a CA, or a server certificate when `subjectAltName`
 * is given, e.g. 'IP:127.0.0.1,DNS:localhost').
 */
export function selfSigned(dir: string, name: string, cn = name, subjectAltName?: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${cn}`,
    ...(subjectAltName ? ['-addext', `subjectAltName=${subjectAltName}`] : []),
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    join(dir, `${name}.pem`),
  );
}

/** A certificate for `cn` signed by the CA `<dir>/<ca>.pem`, written as `<dir>/<cn>.pem`. */
export function signedBy(dir: string, ca: string, cn: string): void {
  const file = (name: string): string => join(dir, name);
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    file(`${cn}.key`),
    '-out',
    file(`${cn}.csr`),
  );
  openssl(
    'x509',
    '-req',
    '-in',
    file(`${cn}.csr`),
    '-CA',
    file(`${ca}.pem`),
    '-CAkey',
    file(`${ca}.key`),
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    file(`${cn}.pem`),
  );
}
