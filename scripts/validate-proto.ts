// Writes proto/buf/validate/validate.proto from the compiled descriptor @bufbuild/protovalidate ships,
// so buf can resolve protovalidate annotations offline (the BSR is not reachable here). Only what
// buf needs to type-check annotations is printed: messages, fields, oneofs, enums, extension ranges,
// reserved ranges and the extensions; options, CEL rules and comments are left out.
// Run with `npm run generate:validate-proto` after changing the package's version.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { isFieldSet } from "@bufbuild/protobuf";
import {
  FieldDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
} from "@bufbuild/protobuf/wkt";

const out = join(import.meta.dirname, "..", "proto", "buf", "validate", "validate.proto");
// The package does not export its package.json; the platform pins the exact version.
const platform = JSON.parse(readFileSync(join(import.meta.dirname, "..", "services", "platform", "package.json"), "utf8")) as { dependencies: Record<string, string> };
const version = platform.dependencies["@bufbuild/protovalidate"];
const file = file_buf_validate_validate.proto;
const proto2 = file.syntax === "" || file.syntax === "proto2";
if (!proto2) throw new Error(`validate.proto is ${file.syntax}; this printer handles proto2 only`);

const scalar: Partial<Record<Type, string>> = {
  [Type.DOUBLE]: "double",
  [Type.FLOAT]: "float",
  [Type.INT64]: "int64",
  [Type.UINT64]: "uint64",
  [Type.INT32]: "int32",
  [Type.FIXED64]: "fixed64",
  [Type.FIXED32]: "fixed32",
  [Type.BOOL]: "bool",
  [Type.STRING]: "string",
  [Type.BYTES]: "bytes",
  [Type.UINT32]: "uint32",
  [Type.SFIXED32]: "sfixed32",
  [Type.SFIXED64]: "sfixed64",
  [Type.SINT32]: "sint32",
  [Type.SINT64]: "sint64",
};
// Field numbers above this are written "max" (2^29 - 1 is the largest field number).
const MAX_FIELD = 536_870_911;

// descriptor.proto is proto2: unset optional fields read as their defaults, so ask for presence.
const inOneofField = (f: FieldDescriptorProto) => isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && !f.proto3Optional;
const hasDefault = (f: FieldDescriptorProto) => isFieldSet(f, FieldDescriptorProtoSchema.field.defaultValue);
const typeOf = (f: FieldDescriptorProto) => scalar[f.type] ?? f.typeName;
const label = (f: FieldDescriptorProto) => (f.label === Label.REPEATED ? "repeated " : f.label === Label.REQUIRED ? "required " : "optional ");
const range = (start: number, endExclusive: number) => {
  const end = endExclusive - 1;
  return end >= MAX_FIELD ? `${start} to max` : end === start ? `${start}` : `${start} to ${end}`;
};

function printEnum(e: EnumDescriptorProto, indent: string): string[] {
  return [`${indent}enum ${e.name} {`, ...e.value.map((v) => `${indent}  ${v.name} = ${v.number};`), `${indent}}`];
}

function printField(f: FieldDescriptorProto, indent: string, inOneof: boolean): string {
  const defaultValue = hasDefault(f) ? ` [default = ${f.type === Type.STRING ? JSON.stringify(f.defaultValue) : f.defaultValue}]` : "";
  return `${indent}${inOneof ? "" : label(f)}${typeOf(f)} ${f.name} = ${f.number}${defaultValue};`;
}

function printMessage(m: DescriptorProto, indent: string): string[] {
  const inner = `${indent}  `;
  const lines = [`${indent}message ${m.name} {`];
  for (const e of m.enumType) lines.push(...printEnum(e, inner));
  for (const n of m.nestedType) lines.push(...printMessage(n, inner));
  const printedOneofs = new Set<number>();
  for (const f of m.field) {
    if (!inOneofField(f)) {
      lines.push(printField(f, inner, false));
      continue;
    }
    if (printedOneofs.has(f.oneofIndex)) continue;
    printedOneofs.add(f.oneofIndex);
    lines.push(`${inner}oneof ${m.oneofDecl[f.oneofIndex]!.name} {`);
    for (const member of m.field.filter((g) => inOneofField(g) && g.oneofIndex === f.oneofIndex)) lines.push(printField(member, `${inner}  `, true));
    lines.push(`${inner}}`);
  }
  for (const r of m.extensionRange) lines.push(`${inner}extensions ${range(r.start, r.end)};`);
  for (const r of m.reservedRange) lines.push(`${inner}reserved ${range(r.start, r.end)};`);
  if (m.reservedName.length > 0) lines.push(`${inner}reserved ${m.reservedName.map((n) => JSON.stringify(n)).join(", ")};`);
  lines.push(...printExtensions(m.extension, inner));
  lines.push(`${indent}}`);
  return lines;
}

function printExtensions(extensions: readonly FieldDescriptorProto[], indent: string): string[] {
  const byExtendee = Map.groupBy(extensions, (f) => f.extendee);
  return [...byExtendee].flatMap(([extendee, fields]) => [`${indent}extend ${extendee} {`, ...fields.map((f) => printField(f, `${indent}  `, false)), `${indent}}`]);
}

const lines = [
  "// Copyright 2023-2025 Buf Technologies, Inc.",
  "//",
  '// Licensed under the Apache License, Version 2.0 (the "License");',
  "// you may not use this file except in compliance with the License.",
  "// You may obtain a copy of the License at",
  "//",
  "//      http://www.apache.org/licenses/LICENSE-2.0",
  "//",
  "// Unless required by applicable law or agreed to in writing, software",
  '// distributed under the License is distributed on an "AS IS" BASIS,',
  "// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.",
  "// See the License for the specific language governing permissions and",
  "// limitations under the License.",
  "",
  `// Code generated by scripts/validate-proto.ts from the descriptor in @bufbuild/protovalidate ${version}`,
  "// (github.com/bufbuild/protovalidate, proto/protovalidate/buf/validate/validate.proto). DO NOT EDIT.",
  "// Types and extensions only: the rules' CEL expressions and documentation live in that package.",
  "",
  'syntax = "proto2";',
  "",
  `package ${file.package};`,
  "",
  ...file.dependency.map((d) => `import "${d}";`),
  "",
  ...file.enumType.flatMap((e) => [...printEnum(e, ""), ""]),
  ...file.messageType.flatMap((m) => [...printMessage(m, ""), ""]),
  ...printExtensions(file.extension, ""),
];
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${lines.join("\n")}\n`);
console.log(`wrote ${out} (protovalidate ${version})`);
