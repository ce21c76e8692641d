/**
 * TLSInfo as Swarm reports it, for the cluster (the trust root and the issuer new certificates
 * come from) and for each node (the root it trusts and the issuer of its own certificate). The
 * root rotation is converged when every node's issuer is the cluster's; `docker swarm ca --rotate`
 * compares exactly these fields (raw subject and SubjectPublicKeyInfo DER, base64).
 */
import { splitPemCertificates } from "./keys.ts";
import { x509 } from "./x509.ts";

export interface TlsInfo {
  TrustRoot: string;
  CertIssuerSubject: string;
  CertIssuerPublicKey: string;
}

function issuerFields(certPem: string): Omit<TlsInfo, "TrustRoot"> {
  const cert = new x509.X509Certificate(certPem);
  return {
    CertIssuerSubject: Buffer.from(cert.subjectName.toArrayBuffer()).toString("base64"),
    CertIssuerPublicKey: Buffer.from(cert.publicKey.rawData).toString("base64"),
  };
}

/**
 * The cluster's TLSInfo: its trust root, and as issuer the certificate that signs from now on:
 * the new root while a rotation runs (moby's IssuerFromAPIRootCA), else the root itself.
 */
export function clusterTlsInfo(rootPem: string, rotationCertPem?: string): TlsInfo {
  return { TrustRoot: rootPem, ...issuerFields(rotationCertPem ?? rootPem) };
}

/**
 * A node's TLSInfo from its certificate chain and trust root. The issuer is the first intermediate
 * when the chain has one (a certificate issued during or after a rotation carries the new root
 * cross-signed by the old, with the new root's subject and key), else the root that signed it.
 */
export function nodeTlsInfo(chainPem: string, trustRootPem: string): TlsInfo {
  const intermediate = splitPemCertificates(chainPem)[1];
  return { TrustRoot: trustRootPem, ...issuerFields(intermediate ?? trustRootPem) };
}

/** Whether a node's certificate comes from the issuer the cluster wants (SwarmKit's hasIssuer). */
export function hasIssuer(node: Partial<TlsInfo> | undefined, wanted: TlsInfo): boolean {
  return (
    node?.CertIssuerSubject === wanted.CertIssuerSubject &&
    node?.CertIssuerPublicKey === wanted.CertIssuerPublicKey
  );
}

/** Equal PEM certificates, whatever their line endings, headers or surrounding whitespace. */
export function samePem(a: string, b: string): boolean {
  const norm = (pem: string) => splitPemCertificates(pem).map((c) => c.replace(/\s+/g, ""));
  const [x, y] = [norm(a), norm(b)];
  return x.length === y.length && x.every((c, i) => c === y[i]);
}
