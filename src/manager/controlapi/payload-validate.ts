/**
 * Validation of secret and config specs with SwarmKit's messages (`controlapi/common.go`,
 * `controlapi/secret.go`, `controlapi/config.go`, `api/validation/secrets.go`). Nothing here ever
 * puts the payload itself into a message.
 */
import type { SecretSpec } from "../../api/index.ts";
import { ErrorCode, invalidArgument, ShoalError } from "../../base/index.ts";
import { invalid } from "./service-validate.ts";

export type PayloadKind = "secret" | "config";

/** SwarmKit's MaxSecretSize (500 KiB) and MaxConfigSize (1000 KiB): data must be strictly smaller. */
export const MAX_SECRET_SIZE = 500 * 1024;
export const MAX_CONFIG_SIZE = 1000 * 1024;

export const maxSizeOf = (kind: PayloadKind): number =>
  kind === "secret" ? MAX_SECRET_SIZE : MAX_CONFIG_SIZE;

const VALID_NAME = /^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/;

/** A secret spec is the superset: configs have no Driver. */
export type PayloadSpec = SecretSpec;

/** SwarmKit's validateConfigOrSecretAnnotations. */
export function validatePayloadName(name: string | undefined): void {
  if (!name) throw invalid("name must be provided");
  if (name.length > 64 || !VALID_NAME.test(name)) {
    throw invalid(
      "invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]",
    );
  }
}

const BASE64 = /^[A-Za-z0-9+/]*$/;

/**
 * The payload bytes of a `Data` field (standard base64, as Go encodes []byte). A malformed one is
 * refused with Go's decoder text; the offending characters are never echoed.
 */
export function decodeData(data: string | undefined | null): Buffer {
  if (data === undefined || data === null) return Buffer.alloc(0);
  const body = data.replace(/=+$/, "");
  const bad = BASE64.test(body) ? -1 : [...body].findIndex((c) => !/[A-Za-z0-9+/]/.test(c));
  if (bad >= 0 || data.length % 4 !== 0 || data.length - body.length > 2) {
    const at = bad >= 0 ? bad : data.length;
    throw invalidArgument(`illegal base64 data at input byte ${at}`);
  }
  return Buffer.from(data, "base64");
}

/** SwarmKit's payload size rule for each kind, with its message. */
export function validatePayloadSize(kind: PayloadKind, bytes: number): void {
  const max = maxSizeOf(kind);
  if (bytes >= max || bytes < 1) {
    throw invalid(`${kind} data must be larger than 0 and less than ${max} bytes`);
  }
}

/** External secret drivers and templating are not part of shoal: say so instead of half-working. */
function refuseUnsupported(kind: PayloadKind, spec: PayloadSpec): void {
  const driver = spec.Driver;
  if (kind === "secret" && driver) {
    if (!driver.Name) throw invalid("secret driver must have a name");
    throw new ShoalError(
      ErrorCode.NotImplemented,
      `secret driver "${driver.Name}" is not supported: shoal does not support external secret drivers; create the secret with its data instead`,
    );
  }
  const templating = spec.Templating?.Name ?? "";
  if (templating !== "" && templating !== "none") {
    throw new ShoalError(
      ErrorCode.NotImplemented,
      `templating driver "${templating}" is not supported: shoal does not expand ${kind} templates; create the ${kind} without --template-driver`,
    );
  }
}

/** The whole create-time check, in SwarmKit's order; returns the decoded payload. */
export function validatePayloadSpec(kind: PayloadKind, spec: PayloadSpec): Buffer {
  validatePayloadName(spec.Name);
  refuseUnsupported(kind, spec);
  const bytes = decodeData(spec.Data);
  validatePayloadSize(kind, bytes.length);
  return bytes;
}
