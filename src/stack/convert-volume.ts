/** Service volumes → Engine API mounts (docker/cli's `compose/convert/volume.go`). */
import { ConvertError, compact, withStackLabel } from "./convert-util.ts";
import { isObject, type Json, type JsonObject } from "./types.ts";
import { parseBytes } from "./units.ts";

function base(v: JsonObject): Record<string, Json | undefined> {
  return {
    Type: v.type as string,
    Source: typeof v.source === "string" && v.source !== "" ? v.source : undefined,
    Target: v.target as string,
    ReadOnly: v.read_only === true ? true : undefined,
    Consistency: typeof v.consistency === "string" ? v.consistency : undefined,
  };
}

function incompatible(v: JsonObject, type: string, allowed: string): void {
  for (const opt of ["volume", "bind", "tmpfs", "image"]) {
    if (opt !== allowed && v[opt] !== undefined) {
      throw new ConvertError(`${opt} options are incompatible with type ${type}`);
    }
  }
}

function volumeMount(v: JsonObject, stackVolumes: JsonObject, namespace: string): JsonObject {
  incompatible(v, "volume", "volume");
  const m = base(v);
  if (m.Source === undefined) return compact(m);
  const source = m.Source as string;
  const decl = stackVolumes[source];
  if (decl === undefined) throw new ConvertError(`undefined volume "${source}"`);
  const d = isObject(decl) ? decl : {};
  m.Source = typeof d.name === "string" ? d.name : `${namespace}_${source}`;
  const opts: Record<string, Json | undefined> = {};
  if (isObject(v.volume)) {
    if (v.volume.nocopy === true) opts.NoCopy = true;
    if (typeof v.volume.subpath === "string") opts.Subpath = v.volume.subpath;
  }
  if (d.external !== true) {
    opts.Labels = withStackLabel(namespace, d.labels);
    if (typeof d.driver === "string" || isObject(d.driver_opts)) {
      opts.DriverConfig = compact({
        Name: typeof d.driver === "string" ? d.driver : undefined,
        Options: isObject(d.driver_opts) ? d.driver_opts : undefined,
      });
    }
  }
  m.VolumeOptions = compact(opts);
  return compact(m);
}

/** Converts `volumes:` of one service; `stackVolumes` is the top-level `volumes:` section. */
export function convertMounts(
  list: Json | undefined,
  stackVolumes: Json | undefined,
  namespace: string,
): JsonObject[] {
  const declared = isObject(stackVolumes) ? stackVolumes : {};
  return (Array.isArray(list) ? list : []).filter(isObject).map((v) => {
    switch (v.type) {
      case "volume":
        return volumeMount(v, declared, namespace);
      case "bind":
      case "npipe": {
        if (typeof v.source !== "string" || v.source === "") {
          throw new ConvertError(`invalid ${v.type} source, source cannot be empty`);
        }
        incompatible(v, String(v.type), "bind");
        const m = base(v);
        if (isObject(v.bind) && typeof v.bind.propagation === "string") {
          m.BindOptions = { Propagation: v.bind.propagation };
        }
        return compact(m);
      }
      case "tmpfs": {
        if (typeof v.source === "string" && v.source !== "") {
          throw new ConvertError("invalid tmpfs source, source must be empty");
        }
        incompatible(v, "tmpfs", "tmpfs");
        const m = base(v);
        if (isObject(v.tmpfs) && v.tmpfs.size !== undefined) {
          m.TmpfsOptions = { SizeBytes: parseBytes(v.tmpfs.size as string | number) };
        }
        return compact(m);
      }
      default:
        throw new ConvertError(
          `volume type must be volume, bind, tmpfs, npipe or image, got ${String(v.type)}`,
        );
    }
  });
}
