// HTTPS from --certfile/--keyfile (and --ca-certs, --cert-reqs, --ciphers):
// the files are read when a worker starts its servers, so the new workers of a
// HUP serve a renewed certificate. The sslContext hook may adjust the options.
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import type { Settings } from '../config/schema.js';
import { SettingError } from '../errors.js';
import { alpnProtocols } from './http-protocols.js';
import { nodeBuiltin } from '../node-builtin.js';

export type TlsSettings = Pick<Settings, 'certfile' | 'keyfile' | 'caCerts' | 'certReqs' | 'ciphers'> & Partial<Pick<Settings, 'httpProtocols'>>;

const FLAGS = { certfile: '--certfile', keyfile: '--keyfile', caCerts: '--ca-certs' } as const;

function readPem(name: keyof typeof FLAGS, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SettingError(name, `${FLAGS[name]} ${path}: cannot read it (${cause}); check the path and that corral's user may read it.`);
  }
}

/** The https server options the settings ask for; undefined when TLS is off. Throws a SettingError naming the problem. */
export function tlsServerOptions(settings: TlsSettings): ServerOptions | undefined {
  const { certfile, keyfile, caCerts, certReqs, ciphers } = settings;
  if (!certfile && !keyfile) {
    if (caCerts || certReqs !== 'none') {
      throw new SettingError(caCerts ? 'caCerts' : 'certReqs', '--ca-certs and --cert-reqs need TLS: give --certfile and --keyfile too.');
    }
    return undefined;
  }
  if (!certfile || !keyfile) throw new SettingError(certfile ? 'keyfile' : 'certfile', 'TLS needs both --certfile and --keyfile.');
  if (certReqs !== 'none' && !caCerts) {
    throw new SettingError('caCerts', `--cert-reqs ${certReqs} checks client certificates against --ca-certs; give that file too.`);
  }
  const options: ServerOptions = {
    cert: readPem('certfile', certfile),
    key: readPem('keyfile', keyfile),
    ...(caCerts ? { ca: readPem('caCerts', caCerts) } : {}),
    ...(ciphers ? { ciphers } : {}),
    requestCert: certReqs !== 'none',
    // optional: a client may come without a certificate; one that sends a bad certificate is cut (see refuseBadClientCertificates).
    rejectUnauthorized: certReqs === 'required',
    // What --http-protocols serves, in its order: the server's preference decides.
    ALPNProtocols: alpnProtocols(settings.httpProtocols ?? ['h1']),
  };
  try {
    // node:tls loads only when there is a certificate to check.
    nodeBuiltin<typeof import('node:tls')>('node:tls').createSecureContext(options);
  } catch (error) {
    throw new SettingError('certfile', `the TLS settings are not usable: ${(error as Error).message} (certfile ${certfile}, keyfile ${keyfile}${ciphers ? `, ciphers ${ciphers}` : ''}).`);
  }
  return options;
}
