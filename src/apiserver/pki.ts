// First-start TLS material: a CA and a serving certificate for 127.0.0.1/localhost, kept in <dataDir>/pki.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export interface ServingPki {
  caCert: string;
  cert: string;
  key: string;
}

function rsaKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  // Node generates the key natively (forge's pure-JS generation takes seconds).
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    privateKey: forge.pki.privateKeyFromPem(pem),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    pem,
  };
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

function makeCa(): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey; certPem: string; keyPem: string } {
  const kp = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = kp.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const attrs = [{ name: 'commonName', value: 'skiff-ca' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(kp.privateKey, forge.md.sha256.create());
  return { cert, key: kp.privateKey, certPem: forge.pki.certificateToPem(cert), keyPem: kp.pem };
}

function makeServing(ca: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey }, ips: string[], dns: string[]) {
  const kp = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = kp.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000);
  cert.setSubject([{ name: 'commonName', value: 'kube-apiserver' }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...dns.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))],
    },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: kp.pem };
}

/** Loads <dataDir>/pki or creates it (CA + serving cert for loopback and the in-cluster names). */
export function ensurePki(dataDir: string, extraIps: string[] = []): ServingPki {
  const dir = join(dataDir, 'pki');
  const files = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'apiserver.crt'),
    key: join(dir, 'apiserver.key'),
  };
  if (existsSync(files.caCert) && existsSync(files.cert) && existsSync(files.key)) {
    return {
      caCert: readFileSync(files.caCert, 'utf8'),
      cert: readFileSync(files.cert, 'utf8'),
      key: readFileSync(files.key, 'utf8'),
    };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = makeCa();
  const serving = makeServing(
    ca,
    ['127.0.0.1', '::1', ...extraIps],
    ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
  );
  writeFileSync(files.caCert, ca.certPem, { mode: 0o644 });
  writeFileSync(files.caKey, ca.keyPem, { mode: 0o600 });
  writeFileSync(files.cert, serving.certPem, { mode: 0o644 });
  writeFileSync(files.key, serving.keyPem, { mode: 0o600 });
  return { caCert: ca.certPem, cert: serving.certPem, key: serving.keyPem };
}
