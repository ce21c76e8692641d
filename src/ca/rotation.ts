/**
 * Root rotation with a cross-signed intermediate (SwarmKit's CrossSignCACertificate and
 * RootRotation): the new root's certificate is re-signed by the old root's key, keeping the new
 * subject, key, validity and key identifier. While the rotation runs, the CA signs with the new key
 * and appends the cross-signed certificate, so nodes that still trust only the old root accept the
 * new certificates; nodes that have the new root accept them directly.
 *
 * The reconciler that moves every node to the new root and then swaps the trust root lives with the
 * manager (it needs the store); `docker swarm ca --rotate` is wired there.
 */
import type { Ids } from "../base/index.ts";
import { ECDSA_P256, importSigningKey, withNewline } from "./keys.ts";
import type { SigningMaterial } from "./node-cert.ts";
import type { RootCA } from "./rootca.ts";
import { x509 } from "./x509.ts";

const AUTHORITY_KEY_IDENTIFIER_OID = "2.5.29.35";

/** The new root certificate, signed by the old root's key. */
export async function crossSignRootCA(oldRoot: RootCA, newRootCertPem: string, ids: Ids): Promise<string> {
  const oldCert = new x509.X509Certificate(oldRoot.certPem);
  const newCert = new x509.X509Certificate(newRootCertPem);
  const basic = newCert.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw new Error("certificate not a CA");
  const keep = newCert.extensions.filter((e) => e.type !== AUTHORITY_KEY_IDENTIFIER_OID);
  const cross = await x509.X509CertificateGenerator.create({
    serialNumber: ids.randomBytes(16).toString("hex").replace(/^./, "1"),
    subject: newCert.subjectName,
    issuer: oldCert.subjectName,
    notBefore: newCert.notBefore,
    notAfter: newCert.notAfter,
    publicKey: newCert.publicKey,
    signingKey: await importSigningKey(oldRoot.keyPem),
    signingAlgorithm: ECDSA_P256,
    extensions: [...keep, await x509.AuthorityKeyIdentifierExtension.create(oldCert.publicKey)],
  });
  return withNewline(cross.toString("pem"));
}

/** What the CA signs with during a rotation: the new key, with the cross-signed certificate attached. */
export function rotationSigningMaterial(newRoot: RootCA, crossSignedPem: string): SigningMaterial {
  return { signingCertPem: newRoot.certPem, signingKeyPem: newRoot.keyPem, intermediatesPem: crossSignedPem };
}
