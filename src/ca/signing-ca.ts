/**
 * A root CA certificate and key given by the user (`docker swarm ca --rotate --ca-cert --ca-key`),
 * checked as SwarmKit's NewRootCA and validateCAConfig do, with their messages: exactly one
 * self-signed CA certificate, valid for at least another year, and a private key that matches it.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { invalidArgument, notImplemented } from "../base/index.ts";
import { splitPemCertificates, withNewline } from "./keys.ts";

/** SwarmKit's minRootExpiration. */
export const MIN_ROOT_VALIDITY_MS = 365 * 24 * 3600 * 1000;

export interface SigningCA {
  /** The certificate, normalised (one PEM block, one trailing newline). */
  certPem: string;
  /** The key as PKCS#8 PEM, whatever encoding it came in. */
  keyPem: string;
}

function parseRootCertificate(certPem: string): X509Certificate {
  const blocks = splitPemCertificates(certPem);
  if (blocks.length === 0) throw invalidArgument("no valid root CA certificates found");
  if (blocks.length > 1)
    throw invalidArgument("the desired CA certificate cannot contain multiple certificates");
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(blocks[0] as string);
  } catch (err) {
    throw invalidArgument(`invalid root certificates: ${(err as Error).message}`);
  }
  if (!cert.ca || !cert.checkIssued(cert) || !cert.verify(cert.publicKey)) {
    throw invalidArgument(
      "error while validating Root CA Certificate: x509: certificate signed by unknown authority",
    );
  }
  return cert;
}

function parseKey(keyPem: string): KeyObject {
  try {
    return createPrivateKey(keyPem);
  } catch (err) {
    throw invalidArgument(`malformed private key: ${(err as Error).message}`);
  }
}

/**
 * Checks a user-supplied root and returns it normalised. `now` decides "expires too soon". Keys
 * other than ECDSA P-256 are refused: every signer in shoal signs with P-256 (Swarm also takes
 * RSA and the larger curves).
 */
export function parseSigningCA(certPem: string, keyPem: string, now: number): SigningCA {
  const cert = parseRootCertificate(certPem);
  const key = parseKey(keyPem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw notImplemented(
      `root CA keys other than ECDSA P-256 (this key is ${key.asymmetricKeyType ?? "unknown"} ${key.asymmetricKeyDetails?.namedCurve ?? ""})`.trimEnd(),
    );
  }
  if (!cert.checkPrivateKey(key)) throw invalidArgument("certificate key mismatch");
  if (Date.parse(cert.validTo) < now + MIN_ROOT_VALIDITY_MS) {
    throw invalidArgument("CA certificate expires too soon");
  }
  return {
    certPem: withNewline(cert.toString()),
    keyPem: withNewline(key.export({ type: "pkcs8", format: "pem" }).toString()),
  };
}

/** Whether two private keys (any PEM encoding) are the same key. */
export function sameKey(a: string, b: string): boolean {
  try {
    const der = (pem: string) => createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
    return der(a).equals(der(b));
  } catch {
    return false;
  }
}
