/**
 * The layering of DESIGN §6 and STYLE.md: dependencies point down. CI fails when an arrow points
 * the wrong way.
 */
const layer = (name, allowed) => ({
  name: `${name}-imports`,
  severity: "error",
  comment: `${name} may import only: ${allowed.join(", ") || "nothing in shoal"}`,
  from: { path: `^src/${name}/` },
  to: {
    path: "^src/",
    pathNot: [`^src/${name}/`, ...allowed.map((a) => `^src/${a}/`)],
  },
});

module.exports = {
  forbidden: [
    layer("base", []),
    layer("api", ["base"]),
    layer("store", ["api", "base"]),
    layer("etcd", ["api", "base"]),
    layer("ca", ["api", "base"]),
    layer("clusterapi", ["api", "base", "ca"]),
    layer("manager", ["store", "ca", "api", "base"]),
    layer("agent", ["api", "base", "ca", "dispatcher-protocol"]),
    layer("engineapi", ["manager", "api", "base"]),
    layer("stack", ["api", "base"]),
    // local multi-node clusters (`shoal up`, the cluster tests): processes and namespaces only,
    // never the manager, agent or store
    layer("devcluster", ["base"]),
    layer("cli", ["api", "base", "stack", "devcluster"]),
    {
      name: "no-cycles",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-sibling-manager-loops",
      severity: "error",
      comment: "manager loops meet only through the store",
      from: { path: "^src/manager/([^/]+)/" },
      to: { path: "^src/manager/([^/]+)/", pathNot: ["^src/manager/$1/", "^src/manager/common/"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "\\.test\\.ts$" },
  },
};
