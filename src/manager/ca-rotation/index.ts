/** manager/ca-rotation: the leader's root CA rotation (nodes renew under the new root, then the swap). */

export { type RotationDeps, rotationStep, runRootRotation } from "./controller.ts";
export { decideRotation, ROTATE_BATCH_SIZE, type RotationDecision, unconvergedNodes } from "./reconcile.ts";
