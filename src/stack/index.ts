/** stack: compose files → the objects `docker stack deploy` sends (pure; files come in as text). */

export { convertStack, dependencyOrder } from "./convert.ts";
export { ConvertError } from "./convert-util.ts";
export { InterpolationError, interpolateString } from "./interpolate.ts";
export { ComposeError, loadCompose } from "./load.ts";
export type {
  ComposeSource,
  DependsCondition,
  Json,
  JsonObject,
  LoadedCompose,
  LoadOptions,
  StackObjects,
  StackService,
} from "./types.ts";
export { IMAGE_LABEL, NAMESPACE_LABEL } from "./types.ts";
