// @peculiar/x509 needs the Reflect metadata polyfill before it loads; keep that in this one module.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { webcrypto, x509 };
