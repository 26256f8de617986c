// Field rules stated in a contract as protovalidate annotations are enforced by the platform before
// the handler: invalid_argument with every violation named by its field path, nothing handled.
import test from "ava";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { BadRequestSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { errorsInterceptor } from "../src/errors-interceptor.ts";
import { fieldRulesInterceptor, hasFieldRules } from "../src/field-rules-interceptor.ts";
import { FieldRulesTestService, ShipRequestSchema } from "./gen/bazaar/platformtest/v1/field_rules_pb.ts";
import { EchoRequestSchema } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { silentLogger } from "./fixtures/serve/start.ts";

function shipping() {
  const handled: number[] = [];
  const transport = createRouterTransport(
    (router) => router.service(FieldRulesTestService, { ship: (req) => (handled.push(req.lines.length), { acceptedLines: req.lines.length }) }),
    { router: { interceptors: [errorsInterceptor({ logger: silentLogger() }), fieldRulesInterceptor()] } },
  );
  return { client: createClient(FieldRulesTestService, transport), handled };
}

const fieldsOf = (error: unknown) => ConnectError.from(error).findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));

test("a request breaking its annotated rules is invalid_argument naming every field path at once, and is never handled", async (t) => {
  const { client, handled } = shipping();
  const error = await t.throwsAsync(
    client.ship({ id: "not-a-uuid", countryCode: "de", lines: [{ sku: "B00933-BLACK", quantity: 1 }, { sku: "lower/case", quantity: 1000 }] }),
  );
  t.is(ConnectError.from(error).code, Code.InvalidArgument);
  t.deepEqual(fieldsOf(error).sort(), ["country_code", "id", "lines[1].quantity", "lines[1].sku"]);
  t.deepEqual(fieldsOf(await t.throwsAsync(client.ship({ id: "0190a000-0000-7000-8000-000000000000", countryCode: "DE" }))), ["lines"], "min_items");
  t.deepEqual(handled, []);
  const ok = await client.ship({ id: "0190a000-0000-7000-8000-000000000000", countryCode: "DE", lines: [{ sku: "B00933-BLACK", quantity: 2 }] });
  t.is(ok.acceptedLines, 1);
  t.deepEqual(handled, [1]);
});

test("only messages whose contract carries rules are validated", (t) => {
  t.true(hasFieldRules(ShipRequestSchema));
  t.false(hasFieldRules(EchoRequestSchema), "an unannotated request costs a cached lookup");
});
