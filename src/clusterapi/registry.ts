/** Helpers for the daemon's NodeRegistry over the store. */
import type { Node } from "../api/index.ts";
import { tlsInfoOf } from "../ca/index.ts";
import type { NewNode } from "./deps.ts";

/**
 * The Node object for a node that just joined (SwarmKit's IssueNodeCertificate): the role and
 * availability it joined with, no labels, state unknown until its first session makes it ready, and
 * the trust root it was issued under. `now` is an RFC 3339 timestamp.
 */
export function joinedNodeObject(node: NewNode, now: string, rootCAPem: string): Node {
  return {
    ID: node.nodeId,
    CreatedAt: now,
    UpdatedAt: now,
    Spec: { Labels: {}, Role: node.role, Availability: node.availability },
    Description: { TLSInfo: tlsInfoOf(rootCAPem) },
    Status: { State: "unknown" },
  };
}
