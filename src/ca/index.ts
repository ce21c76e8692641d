/** ca: the cluster's root CA, join tokens and unlock keys. */
export type { RootCA } from "./rootca.ts";
export { CERT_BACKDATE_MS, createRootCA, ROOT_CA_CN, rootDigest, tlsInfoOf } from "./rootca.ts";
export type { ParsedJoinToken } from "./tokens.ts";
export {
  generateJoinToken,
  generateUnlockKey,
  parseJoinToken,
  sameToken,
  tokenMatchesRoot,
} from "./tokens.ts";
