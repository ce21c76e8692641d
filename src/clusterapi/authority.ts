/** The usual CertificateAuthority: a root certificate and a signer made from the cluster's CA key. */
import type { NodeCertSigner } from "../ca/index.ts";
import type { CertificateAuthority } from "./deps.ts";

/** `rootCAPem` is read on every call so a finished root rotation is picked up. */
export function localAuthority(rootCAPem: () => string, signer: () => NodeCertSigner): CertificateAuthority {
  return {
    rootCAPem,
    sign: (csrPem, subject) => signer().sign(csrPem, subject),
  };
}
