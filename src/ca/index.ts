/** ca: the cluster's root CA, node certificates, join tokens, unlock keys, node credentials. */
export type { BlacklistedCertificates } from "./blacklist.ts";
export { blacklistEntry, EXPIRED_CERT_GRACE_MS, isBlacklisted, pruneBlacklist } from "./blacklist.ts";
export { rootCAStateOf, withRootCAState } from "./cluster-ca.ts";
export type { NodeCredentials } from "./credentials.ts";
export { credentialPaths, loadNodeCredentials, saveNodeCredentials, trustedRoots } from "./credentials.ts";
export type { AuthorizationPolicy, CertValidity, NodeIdentity, PeerSubject } from "./identity.ts";
export {
  authorizeNode,
  identityFromSubject,
  parseNodeCertificate,
  verifyNodeCertificate,
} from "./identity.ts";
export {
  formatUnlockKey,
  isWrappedPrivateKey,
  parseUnlockKey,
  UNLOCK_KEY_PREFIX,
  unwrapPrivateKey,
  wrapPrivateKey,
} from "./kek.ts";
export { splitPemCertificates } from "./keys.ts";
export type { NodeCertSubject, NodeKeyAndCSR, SignerOptions, SigningMaterial } from "./node-cert.ts";
export { createNodeKeyAndCSR, NodeCertSigner, nodeCertExpiryMs } from "./node-cert.ts";
export { randomFraction, renewalDelayMs } from "./renewal.ts";
export type { NodeRole } from "./roles.ts";
export {
  CA_SERVER_NAME,
  DEFAULT_NODE_CERT_EXPIRY_MS,
  MANAGER_OU,
  MIN_NODE_CERT_EXPIRY_MS,
  ouOfRole,
  roleOfOu,
  WORKER_OU,
} from "./roles.ts";
export type { CAConfigRequest, RootCAState, RootRotationState } from "./root-rotation.ts";
export { finishRotation, nextRootCAState, signingMaterialOf } from "./root-rotation.ts";
export type { RootCA } from "./rootca.ts";
export { CERT_BACKDATE_MS, createRootCA, ROOT_CA_CN, rootDigest, tlsInfoOf } from "./rootca.ts";
export { crossSignRootCA, rotationSigningMaterial } from "./rotation.ts";
export type { SigningCA } from "./signing-ca.ts";
export { MIN_ROOT_VALIDITY_MS, parseSigningCA } from "./signing-ca.ts";
export type { TlsInfo } from "./tls-info.ts";
export { clusterTlsInfo, hasIssuer, nodeTlsInfo, samePem } from "./tls-info.ts";
export type { ParsedJoinToken } from "./tokens.ts";
export {
  generateJoinToken,
  generateUnlockKey,
  parseJoinToken,
  sameToken,
  tokenMatchesRoot,
} from "./tokens.ts";
