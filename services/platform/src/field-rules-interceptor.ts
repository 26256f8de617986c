// Field rules stated in the contract as protovalidate annotations ((buf.validate.field) and friends),
// checked once for every service before the handler: every violation at once, each named by its
// field path in the form the handlers' own checks use (`shipping_address.country_code`,
// `lines[0].sku`). A request message without annotations costs one cached lookup.
import { hasOption, type DescMessage, type Message } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import { field as fieldRules, message as messageRules, oneof as oneofRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { Interceptor } from "@connectrpc/connect";
import { InvalidArgumentError } from "./errors.ts";

const annotated = new WeakMap<DescMessage, boolean>();

/** Whether `schema` or a message it holds carries any protovalidate rule (cached per schema). */
export function hasFieldRules(schema: DescMessage): boolean {
  let found = annotated.get(schema);
  if (found === undefined) annotated.set(schema, (found = walk(schema, new Set())));
  return found;
}

function walk(schema: DescMessage, seen: Set<DescMessage>): boolean {
  if (seen.has(schema)) return false;
  seen.add(schema);
  return (
    hasOption(schema, messageRules) ||
    schema.oneofs.some((o) => hasOption(o, oneofRules)) ||
    schema.fields.some((f) => hasOption(f, fieldRules) || (f.message !== undefined && walk(f.message, seen)))
  );
}

/** The violations of `message` against its contract's annotations, as InvalidArgumentError. */
export function checkFieldRules(validator: Validator, schema: DescMessage, message: Message): void {
  if (!hasFieldRules(schema)) return;
  const result = validator.validate(schema, message);
  if (result.kind === "invalid") {
    throw new InvalidArgumentError(result.violations.map((v) => ({ field: pathToString(v.field), description: v.message })));
  }
  // A rule that cannot be evaluated is a contract defect, not the caller's: let it surface as internal.
  if (result.kind === "error") throw result.error;
}

/**
 * A SERVER interceptor checking each request message (also each message of a client stream) against
 * its protovalidate annotations. Place it inside the errors interceptor, which maps its
 * InvalidArgumentError to invalid_argument with a google.rpc.BadRequest violation per field.
 */
export function fieldRulesInterceptor(): Interceptor {
  const validator = createValidator();
  return (next) => async (req) => {
    const input = req.method.input;
    if (!req.stream) {
      checkFieldRules(validator, input, req.message);
      return next(req);
    }
    if (!hasFieldRules(input)) return next(req);
    const messages = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const message of messages) {
          checkFieldRules(validator, input, message);
          yield message;
        }
      })(),
    });
  };
}
