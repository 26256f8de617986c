// An OpenAPI 3.1 document of the edge's JSON API, generated from the descriptors of the public surface
// (no Go plugin needed): one POST path per method (and GET for NO_SIDE_EFFECTS ones, Connect's GET
// encoding), with proto3 JSON mapping — 64-bit integers as strings, enums by name, Timestamps as
// RFC 3339 strings.
import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { CART_TOKEN_HEADER } from "@bazaar/platform";
import type { PublicService } from "./public-services.ts";
import type { Access } from "./surface.ts";

type Schema = Record<string, unknown>;

const wellKnown: Record<string, Schema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]+)?s$" },
  "google.protobuf.FieldMask": { type: "string", description: "Comma-separated lowerCamel field paths." },
  "google.protobuf.Struct": { type: "object" },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array" },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Any": { type: "object", properties: { "@type": { type: "string" } } },
  "google.protobuf.StringValue": { type: "string" },
  "google.protobuf.BoolValue": { type: "boolean" },
  "google.protobuf.Int32Value": { type: "integer", format: "int32" },
  "google.protobuf.UInt32Value": { type: "integer", format: "int32" },
  "google.protobuf.Int64Value": { type: "string", format: "int64" },
  "google.protobuf.UInt64Value": { type: "string", format: "int64" },
  "google.protobuf.DoubleValue": { type: "number" },
  "google.protobuf.FloatValue": { type: "number" },
  "google.protobuf.BytesValue": { type: "string", format: "byte" },
};

function scalar(type: ScalarType): Schema {
  switch (type) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", format: "byte" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: "number" };
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64" };
    default:
      return { type: "integer", format: "int32" };
  }
}

export function generateOpenApi(services: readonly PublicService[], info: { title: string; version: string }): Schema {
  const schemas: Record<string, Schema> = {};
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

  const enumSchema = (e: DescEnum): Schema => {
    if (!schemas[e.typeName]) schemas[e.typeName] = { type: "string", enum: e.values.map((v) => v.name) };
    return ref(e.typeName);
  };
  const messageSchema = (m: DescMessage): Schema => {
    if (wellKnown[m.typeName]) return wellKnown[m.typeName]!;
    if (!schemas[m.typeName]) {
      const properties: Record<string, Schema> = {};
      schemas[m.typeName] = { type: "object", properties, additionalProperties: false };
      for (const field of m.fields) properties[field.jsonName] = fieldSchema(field);
    }
    return ref(m.typeName);
  };
  const single = (f: { scalar?: ScalarType; enum?: DescEnum; message?: DescMessage }): Schema =>
    f.message ? messageSchema(f.message) : f.enum ? enumSchema(f.enum) : scalar(f.scalar ?? ScalarType.STRING);
  const fieldSchema = (field: DescField): Schema => {
    let schema: Schema;
    switch (field.fieldKind) {
      case "scalar":
        schema = scalar(field.scalar);
        break;
      case "enum":
        schema = enumSchema(field.enum);
        break;
      case "message":
        schema = messageSchema(field.message);
        break;
      case "list":
        schema = { type: "array", items: single({ scalar: field.scalar, enum: field.enum, message: field.message }) };
        break;
      case "map":
        schema = { type: "object", additionalProperties: single({ scalar: field.scalar, enum: field.enum, message: field.message }) };
        break;
    }
    return schema;
  };

  const errorResponse = {
    description: "A Connect error: code (e.g. invalid_argument, not_found, unauthenticated) and message.",
    content: { "application/json": { schema: ref("connect.error") } },
  };
  schemas["connect.error"] = {
    type: "object",
    properties: { code: { type: "string" }, message: { type: "string" }, details: { type: "array", items: { type: "object" } } },
  };

  const paths: Record<string, Schema> = {};
  for (const { service, methods } of services) {
    for (const { method, access } of methods.values()) {
      if (method.methodKind !== "unary") continue;
      const operation = (get: boolean): Schema => ({
        operationId: `${service.typeName}.${method.name}${get ? ".get" : ""}`,
        tags: [service.typeName],
        summary: method.name,
        description: `Access: ${access}.`,
        ...securityOf(access),
        ...(get
          ? {
              parameters: [
                { name: "connect", in: "query", required: true, schema: { type: "string", enum: ["v1"] } },
                { name: "encoding", in: "query", required: true, schema: { type: "string", enum: ["json"] } },
                { name: "message", in: "query", required: true, description: "The request as JSON, URL-encoded.", schema: { type: "string" } },
                ...(access === "personal" ? [cartTokenParameter] : []),
              ],
            }
          : {
              ...(access === "personal" ? { parameters: [cartTokenParameter] } : {}),
              requestBody: { required: true, content: { "application/json": { schema: messageSchema(method.input) } } },
            }),
        responses: {
          "200": { description: "Success", content: { "application/json": { schema: messageSchema(method.output) } } },
          ...(get ? { "304": { description: "Not modified (If-None-Match matched the ETag)" } } : {}),
          default: errorResponse,
        },
      });
      paths[`/${service.typeName}/${method.name}`] = {
        post: operation(false),
        ...(method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ? { get: operation(true) } : {}),
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: { ...info, description: "Bazaar's public API as Connect JSON (POST, or GET for read-only methods). Generated from the protos." },
    paths,
    components: { schemas, securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
  };
}


/** Who may call, as OpenAPI security: none, an optional bearer token (personal), or a required one. */
function securityOf(access: Access): Schema {
  if (access === "public") return {};
  if (access === "personal") return { security: [{}, { bearer: [] }] };
  return { security: [{ bearer: [] }] };
}

/** A guest's proof of their cart (personal methods). */
const cartTokenParameter: Schema = {
  name: CART_TOKEN_HEADER,
  in: "header",
  required: false,
  description: "A guest cart's token (from CreateCart); signed-in callers send a bearer token instead.",
  schema: { type: "string" },
};
