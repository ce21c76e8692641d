/**
 * Node certificates: a node makes its own key and CSR; the CA signs the CSR into a certificate whose
 * subject is CN=<node ID>, OU=<role>, O=<cluster ID> (SwarmKit's PrepareCSR). The subject in the CSR is
 * ignored: the CA alone decides who the node is.
 */

import type { Clock, Ids } from "../base/index.ts";
import { invalidArgument } from "../base/index.ts";
import { ECDSA_P256, exportPrivateKeyPem, generateKeyPair, importSigningKey, withNewline } from "./keys.ts";
import type { NodeRole } from "./roles.ts";
import { CA_SERVER_NAME, DEFAULT_NODE_CERT_EXPIRY_MS, MIN_NODE_CERT_EXPIRY_MS, ouOfRole } from "./roles.ts";
import { CERT_BACKDATE_MS } from "./rootca.ts";
import { x509 } from "./x509.ts";

export interface NodeKeyAndCSR {
  /** PKCS#8 PEM; never leaves the node. */
  keyPem: string;
  csrPem: string;
}

/** A fresh P-256 key and a CSR for it (SwarmKit's GenerateNewCSR; the subject is a placeholder). */
export async function createNodeKeyAndCSR(): Promise<NodeKeyAndCSR> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=swarm-node",
    keys,
    signingAlgorithm: ECDSA_P256,
  });
  return { keyPem: await exportPrivateKeyPem(keys.privateKey), csrPem: withNewline(csr.toString("pem")) };
}

/**
 * The node certificate lifetime from the cluster spec's `CAConfig.NodeCertExpiry` (nanoseconds):
 * 90 days when unset, at least one hour (controlapi's message).
 */
export function nodeCertExpiryMs(nodeCertExpiryNanos: number | undefined): number {
  if (!nodeCertExpiryNanos) return DEFAULT_NODE_CERT_EXPIRY_MS;
  const ms = Math.floor(nodeCertExpiryNanos / 1_000_000);
  if (ms < MIN_NODE_CERT_EXPIRY_MS) throw invalidArgument("minimum certificate expiry time is: 1h0m0s");
  return ms;
}

/** Who the certificate is for. */
export interface NodeCertSubject {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  /** Extra SANs (e.g. a manager's advertise address for etcd peer TLS). */
  dnsNames?: string[];
  ips?: string[];
}

/** The key a CA signs with, and what it appends to every issued chain. */
export interface SigningMaterial {
  /** The certificate whose key signs (the root, or during rotation the new root). */
  signingCertPem: string;
  signingKeyPem: string;
  /** Appended to issued certificates (the cross-signed new root during a rotation). */
  intermediatesPem?: string;
}

export interface SignerOptions {
  clock: Clock;
  ids: Ids;
  /** Lifetime of issued certificates; see nodeCertExpiryMs. */
  certExpiryMs?: number;
}

const SAFE_NAME = /^[0-9A-Za-z._-]+$/;

/** Signs node CSRs. One per root CA (and per rotation step); cheap to rebuild. */
export class NodeCertSigner {
  private constructor(
    private readonly material: SigningMaterial,
    private readonly signingCert: x509.X509Certificate,
    private readonly key: CryptoKeyLike,
    private readonly options: SignerOptions,
  ) {}

  static async create(material: SigningMaterial, options: SignerOptions): Promise<NodeCertSigner> {
    const cert = new x509.X509Certificate(material.signingCertPem);
    const key = await importSigningKey(material.signingKeyPem);
    return new NodeCertSigner(material, cert, key, options);
  }

  /** Returns the PEM chain: the node certificate, then any intermediates. */
  async sign(csrPem: string, subject: NodeCertSubject): Promise<string> {
    for (const v of [subject.nodeId, subject.clusterId]) {
      if (!SAFE_NAME.test(v)) throw invalidArgument(`invalid certificate subject field ${JSON.stringify(v)}`);
    }
    const csr = parseCSR(csrPem);
    if (!(await csr.verify())) throw invalidArgument("CSR signature is invalid");
    const now = this.options.clock.now();
    const ou = ouOfRole(subject.role);
    const dns = [ou, subject.nodeId, ...(subject.role === "manager" ? [CA_SERVER_NAME] : [])];
    const names = [
      ...[...dns, ...(subject.dnsNames ?? [])].map((value) => ({ type: "dns" as const, value })),
      ...(subject.ips ?? []).map((value) => ({ type: "ip" as const, value })),
    ];
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialFrom(this.options.ids),
      subject: `O=${subject.clusterId}, OU=${ou}, CN=${subject.nodeId}`,
      issuer: this.signingCert.subject,
      notBefore: new Date(now - CERT_BACKDATE_MS),
      notAfter: new Date(now + (this.options.certExpiryMs ?? DEFAULT_NODE_CERT_EXPIRY_MS)),
      publicKey: csr.publicKey,
      signingKey: this.key,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.signingCert.publicKey),
      ],
    });
    return withNewline(cert.toString("pem")) + (this.material.intermediatesPem ?? "");
  }
}

type CryptoKeyLike = Awaited<ReturnType<typeof importSigningKey>>;

function parseCSR(csrPem: string): x509.Pkcs10CertificateRequest {
  try {
    return new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw invalidArgument("invalid CSR");
  }
}

/** A positive 128-bit serial (the top bit cleared so DER needs no sign byte). */
function serialFrom(ids: Ids): string {
  const bytes = ids.randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString("hex");
}
