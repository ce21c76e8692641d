import { createHash } from "node:crypto";
import type { Clock, Ids } from "../base/index.ts";
import { webcrypto, x509 } from "./x509.ts";

/** Swarm's root CA: ECDSA P-256, CN swarm-ca, valid 20 years (RootCAExpiration). */
export const ROOT_CA_CN = "swarm-ca";
export const ROOT_CA_VALIDITY_MS = 630_720_000 * 1000;
/** NotBefore is set this far in the past to tolerate clock skew between nodes (CertBackdate). */
export const CERT_BACKDATE_MS = 60 * 60 * 1000;

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface RootCA {
  /** The CA certificate, PEM. */
  certPem: string;
  /** The CA private key, PKCS#8 PEM. Never leaves the managers. */
  keyPem: string;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Creates a new self-signed root CA. */
export async function createRootCA(clock: Clock, ids: Ids): Promise<RootCA> {
  const keys = await webcrypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]);
  const now = clock.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: ids.randomBytes(16).toString("hex"),
    name: `CN=${ROOT_CA_CN}`,
    notBefore: new Date(now - CERT_BACKDATE_MS),
    notAfter: new Date(now + ROOT_CA_VALIDITY_MS),
    signingAlgorithm: ECDSA_P256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: cert.toString("pem"), keyPem: toPem(pkcs8, "PRIVATE KEY") };
}

/**
 * The fields of TLSInfo that `docker swarm ca` / `node inspect --pretty` show: the trust root and
 * the issuer's subject and public key (DER, base64).
 */
export function tlsInfoOf(certPem: string): {
  TrustRoot: string;
  CertIssuerSubject: string;
  CertIssuerPublicKey: string;
} {
  const cert = new x509.X509Certificate(certPem);
  return {
    TrustRoot: certPem,
    CertIssuerSubject: Buffer.from(cert.subjectName.toArrayBuffer()).toString("base64"),
    CertIssuerPublicKey: Buffer.from(cert.publicKey.rawData).toString("base64"),
  };
}

/** SHA-256 of the root CA's PEM bytes: what a join token pins. */
export function rootDigest(certPem: string): Buffer {
  return createHash("sha256").update(certPem).digest();
}
