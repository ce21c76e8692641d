/**
 * What the service, task and node operations need: a narrow slice of ControlDeps (which satisfies
 * it), so these files do not import the class that binds them.
 */
import type { Clock, Ids } from "../../base/index.ts";
import type { Store } from "../../store/types.ts";

export interface CoreDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
}
