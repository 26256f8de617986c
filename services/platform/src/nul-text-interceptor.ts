// PostgreSQL cannot store U+0000 in text: a NUL that reaches a query fails there as an unexpected
// error (500). Every string a request carries is checked once, here, before any handler sees it, and
// refused as invalid_argument naming each offending field (every one at once).
import { ScalarType, type DescMessage, type Message, type MessageShape } from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import type { Interceptor } from "@connectrpc/connect";
import { InvalidArgumentError, type FieldViolation } from "./errors.ts";

const NUL = "\u0000";
const description = "must not contain the NUL character (U+0000)";

/**
 * Every string in `message` (nested messages, repeated fields, map keys and values, oneofs) that holds
 * U+0000, as field violations with paths like the handlers' own: `filter.brands[2]`,
 * `attributes["color"]` (a map value), `attributes["c\u0000"]` with "key must not…" (a map key).
 */
export function nulTextViolations(schema: DescMessage, message: Message): FieldViolation[] {
  const found: FieldViolation[] = [];
  walk(reflect(schema, message as MessageShape<DescMessage>), "", found);
  return found;
}

function walk(message: ReflectMessage, prefix: string, found: FieldViolation[]): void {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    const path = prefix + field.name;
    switch (field.fieldKind) {
      case "scalar":
        if (field.scalar === ScalarType.STRING) check(message.get(field) as string, path, found);
        break;
      case "message":
        walk(message.get(field) as ReflectMessage, `${path}.`, found);
        break;
      case "list": {
        let i = 0;
        for (const item of message.get(field)) {
          const at = `${path}[${i++}]`;
          if (field.listKind === "message") walk(item as ReflectMessage, `${at}.`, found);
          else if (field.listKind === "scalar" && field.scalar === ScalarType.STRING) check(item as string, at, found);
        }
        break;
      }
      case "map":
        for (const [key, value] of message.get(field)) {
          const at = `${path}[${JSON.stringify(String(key))}]`;
          if (field.mapKey === ScalarType.STRING && (key as string).includes(NUL)) found.push({ field: at, description: `key ${description}` });
          if (field.mapKind === "message") walk(value as ReflectMessage, `${at}.`, found);
          else if (field.mapKind === "scalar" && field.scalar === ScalarType.STRING) check(value as string, at, found);
        }
        break;
      default:
        break; // enums and numbers hold no text
    }
  }
}

function check(value: string, path: string, found: FieldViolation[]): void {
  if (value.includes(NUL)) found.push({ field: path, description });
}

/**
 * A SERVER interceptor refusing requests with U+0000 in any string field (invalid_argument with a
 * google.rpc.BadRequest violation per field), also each message of a client stream. Place it inside
 * the errors interceptor, which maps its InvalidArgumentError.
 */
export function nulTextInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      refuse(req.method.input, req.message);
      return next(req);
    }
    const input = req.method.input;
    const messages = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const message of messages) {
          refuse(input, message);
          yield message;
        }
      })(),
    });
  };
}

function refuse(schema: DescMessage, message: Message): void {
  const violations = nulTextViolations(schema, message);
  if (violations.length > 0) throw new InvalidArgumentError(violations);
}
