import { create, createRegistry, toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import * as v1 from "@bazaar/contracts/grpc/reflection/v1/reflection_pb";
import * as v1alpha from "@bazaar/contracts/grpc/reflection/v1alpha/reflection_pb";

/** Both reflection versions: grpcurl and buf curl speak v1, older tools v1alpha only. */
export const reflectionServices: readonly DescService[] = [v1.ServerReflection, v1alpha.ServerReflection];

// google.rpc.Code values, as the reflection protocol's error_response carries them.
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

// The request and response shapes are identical in v1 and v1alpha; only the type names differ.
type Request = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;
type Answer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * Registers grpc.reflection.v1 and v1alpha ServerReflection answering from `services` (the services
 * this server serves, reflection included): their files and every file they import, transitively.
 */
export function registerReflection(
  router: ConnectRouter,
  services: readonly DescService[],
  options: Parameters<ConnectRouter["service"]>[2] = {},
): void {
  const answer = createReflectionAnswerer(services);
  router.service(
    v1.ServerReflection,
    {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const request of requests) {
          yield create(v1.ServerReflectionResponseSchema, {
            validHost: request.host,
            originalRequest: request,
            messageResponse: answer(request, sent),
          });
        }
      },
    },
    options,
  );
  router.service(
    v1alpha.ServerReflection,
    {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const request of requests) {
          yield create(v1alpha.ServerReflectionResponseSchema, {
            validHost: request.host,
            originalRequest: request,
            messageResponse: answer(request, sent),
          });
        }
      },
    },
    options,
  );
}

/** The protocol's logic without the transport: one answer per request; `sent` is per stream. */
export function createReflectionAnswerer(services: readonly DescService[]) {
  const unique = [...new Map(services.map((s) => [s.typeName, s])).values()];
  const files = new Map<string, DescFile>();
  const collect = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    file.dependencies.forEach(collect);
  };
  unique.forEach((s) => collect(s.file));
  const registry = createRegistry(...files.values());
  const encoded = new Map<string, Uint8Array>();
  const encode = (file: DescFile) => {
    let bytes = encoded.get(file.proto.name);
    if (!bytes) encoded.set(file.proto.name, (bytes = toBinary(FileDescriptorProtoSchema, file.proto)));
    return bytes;
  };
  const serviceNames = unique.map((s) => s.typeName).sort();

  // The file itself always; its imports (transitively) unless this stream already received them,
  // like grpc-go: clients need every dependency to build descriptors, but only once.
  const withDependencies = (file: DescFile, sent: Set<string>): Answer => {
    const out: Uint8Array[] = [];
    const queue = [file];
    const visited = new Set<string>();
    while (queue.length > 0) {
      const current = queue.shift()!;
      if (visited.has(current.proto.name)) continue;
      visited.add(current.proto.name);
      if (out.length === 0 || !sent.has(current.proto.name)) {
        sent.add(current.proto.name);
        out.push(encode(current));
      }
      queue.push(...current.dependencies);
    }
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
  };

  const notFound = (what: string): Answer => ({
    case: "errorResponse",
    value: { errorCode: NOT_FOUND, errorMessage: `${what} not found` },
  });

  // A service, method ("pkg.Service.Method"), message (nested too), enum or extension.
  const fileOfSymbol = (symbol: string): DescFile | undefined => {
    const name = symbol.replace(/^\./, "");
    const type = registry.get(name);
    if (type) return type.file;
    const dot = name.lastIndexOf(".");
    if (dot > 0) {
      const service = registry.getService(name.slice(0, dot));
      if (service?.methods.some((m) => m.name === name.slice(dot + 1))) return service.file;
      // An enum value is scoped like a sibling of its enum.
      const scope = name.slice(0, dot);
      for (const t of registry) {
        if (t.kind === "enum" && t.values.some((v) => v.name === name.slice(dot + 1))) {
          const enumScope = t.typeName.slice(0, Math.max(0, t.typeName.lastIndexOf(".")));
          if (enumScope === scope) return t.file;
        }
      }
    }
    return undefined;
  };

  return function answer(request: Request, sent: Set<string>): Answer {
    const r = request.messageRequest;
    switch (r.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: serviceNames.map((name) => ({ name })) } };
      case "fileByFilename": {
        const file = files.get(r.value);
        return file ? withDependencies(file, sent) : notFound(`file "${r.value}"`);
      }
      case "fileContainingSymbol": {
        const file = fileOfSymbol(r.value);
        return file ? withDependencies(file, sent) : notFound(`symbol "${r.value}"`);
      }
      case "fileContainingExtension": {
        const extendee = registry.getMessage(r.value.containingType);
        const extension = extendee && registry.getExtensionFor(extendee, r.value.extensionNumber);
        return extension
          ? withDependencies(extension.file, sent)
          : notFound(`extension ${r.value.extensionNumber} of "${r.value.containingType}"`);
      }
      case "allExtensionNumbersOfType": {
        const extendee = registry.getMessage(r.value);
        if (!extendee) return notFound(`type "${r.value}"`);
        const numbers: number[] = [];
        for (const t of registry) if (t.kind === "extension" && t.extendee.typeName === extendee.typeName) numbers.push(t.number);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: extendee.typeName, extensionNumber: numbers.sort((a, b) => a - b) } };
      }
      default:
        return { case: "errorResponse", value: { errorCode: INVALID_ARGUMENT, errorMessage: "empty or unknown reflection request" } };
    }
  };
}
