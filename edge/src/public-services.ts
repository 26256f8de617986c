// The public surface as descriptors: each listed service re-built from its file with only its listed
// methods, so routing, reflection and the OpenAPI document all see exactly the public surface.
import { clone, createFileRegistry, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Access, SurfaceEntry } from "./surface.ts";

export interface PublicMethod {
  method: DescMethod;
  access: Access;
}

export interface PublicService {
  /** The service with only its public methods (messages are the file's own, re-created). */
  service: DescService;
  /** The generated service, as listed in the surface. */
  original: DescService;
  methods: ReadonlyMap<string, PublicMethod>;
}

export function publicServices(surface: readonly SurfaceEntry[]): PublicService[] {
  return surface.map(({ service, methods }) => {
    const listed = methods as Record<string, Access | undefined>;
    for (const name of Object.keys(listed)) {
      if (!service.methods.some((m) => m.name === name)) throw new Error(`surface: ${service.typeName} has no method ${name}`);
    }
    const file = service.file;
    const proto = clone(FileDescriptorProtoSchema, file.proto);
    proto.service = proto.service
      .filter((s) => s.name === service.name)
      .map((s) => {
        s.method = s.method.filter((m) => listed[m.name!] !== undefined);
        return s;
      });
    const dependencies = new Map(file.dependencies.map((d) => [d.proto.name, d]));
    const registry = createFileRegistry(proto, (name) => dependencies.get(name));
    const filtered = registry.getService(service.typeName);
    if (!filtered) throw new Error(`surface: could not rebuild ${service.typeName}`);
    return {
      service: filtered,
      original: service,
      methods: new Map(filtered.methods.map((method) => [method.name, { method, access: listed[method.name]! }])),
    };
  });
}
