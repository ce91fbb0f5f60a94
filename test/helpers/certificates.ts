// Throwaway certificates for TLS tests, made with the system's openssl into a
// temporary directory: a CA, server certificates for 127.0.0.1/localhost signed
// by it, a client certificate signed by it, and one from a CA nobody trusts.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPENSSL = '/usr/bin/openssl';

const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

export interface KeyPair {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** As node's getPeerCertificate() gives it: upper-case hex, colon-separated. */
  fingerprint256: string;
  serialNumber: string;
}

export interface TestCertificates {
  dir: string;
  /** The CA that signed `server`, `renewed` and `client`. */
  ca: KeyPair;
  server: KeyPair;
  /** Another server certificate (serial, CN) from the same CA: the "renewed" one. */
  renewed: KeyPair;
  client: KeyPair;
  /** A self-signed CA nobody here trusts, and a client certificate it signed. */
  otherCa: KeyPair;
  otherClient: KeyPair;
  /** Removes the directory and everything in it. */
  remove(): void;
}

function run(args: string[], dir: string) {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

function pair(dir: string, name: string): KeyPair {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const cert = readFileSync(certFile);
  const x509 = new X509Certificate(cert);
  return { certFile, keyFile, cert, key: readFileSync(keyFile), fingerprint256: x509.fingerprint256, serialNumber: x509.serialNumber };
}

/** Makes every certificate (about a second of openssl). Call remove() when done. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'corral-tls-'));
  try {
    writeFileSync(join(dir, 'openssl.cnf'), CONFIG);
    const selfSigned = (name: string, cn: string) =>
      run(['req', '-x509', '-config', 'openssl.cnf', '-extensions', 'ca', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.crt`], dir);
    const signed = (name: string, cn: string, by: string, serial: string, extensions: 'server' | 'client') => {
      run(['req', '-new', '-config', 'openssl.cnf', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
      run(['x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.crt`, '-CAkey', `${by}.key`, '-set_serial', serial, '-sha256', '-days', '2', '-extfile', 'openssl.cnf', '-extensions', extensions, '-out', `${name}.crt`], dir);
    };
    selfSigned('ca', 'Corral Test CA');
    signed('server', 'localhost', 'ca', '0x1001', 'server');
    signed('renewed', 'localhost renewed', 'ca', '0x2002', 'server');
    signed('client', 'corral test client', 'ca', '0x3003', 'client');
    selfSigned('other-ca', 'Untrusted Test CA');
    signed('other-client', 'untrusted client', 'other-ca', '0x4004', 'client');
    return {
      dir,
      ca: pair(dir, 'ca'),
      server: pair(dir, 'server'),
      renewed: pair(dir, 'renewed'),
      client: pair(dir, 'client'),
      otherCa: pair(dir, 'other-ca'),
      otherClient: pair(dir, 'other-client'),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
