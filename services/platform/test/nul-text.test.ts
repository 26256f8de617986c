// The NUL-text walker as a plain function, and its interceptor through a real server: every string a
// request carries — nested, repeated, map keys and values, oneofs — is checked for U+0000.
import test from "ava";
import { create } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { BadRequestSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { CreateProductRequestSchema } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { errorsInterceptor } from "../src/errors-interceptor.ts";
import { nulTextInterceptor, nulTextViolations } from "../src/nul-text-interceptor.ts";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { silentLogger, startServer } from "./fixtures/serve/start.ts";

const nul = "\u0000";

test("a clean message has no violations", (t) => {
  const request = create(CreateProductRequestSchema, {
    product: { name: "Kettle", attributes: { colour: "red" }, variants: [{ sku: "K-1", options: { size: "1l" }, prices: [{ currencyCode: "EUR", amountMinor: 100n }] }] },
  });
  t.deepEqual(nulTextViolations(CreateProductRequestSchema, request), []);
});

test("NUL is found in nested messages, repeated strings and messages, and map keys and values, every one at once", (t) => {
  const request = create(CreateProductRequestSchema, {
    product: {
      name: `Ket${nul}tle`,
      imageUrls: ["https://a.example/1.png", `https://a.example/${nul}.png`],
      attributes: { colour: `r${nul}d`, [`ma${nul}terial`]: "steel" },
      variants: [
        { sku: "K-1" },
        { sku: `K-${nul}2`, options: { size: `1${nul}l` }, prices: [{ currencyCode: `EU${nul}`, amountMinor: 100n }] },
      ],
    },
  });
  const fields = nulTextViolations(CreateProductRequestSchema, request).map((v) => `${v.field}: ${v.description}`);
  t.deepEqual(fields.sort(), [
    'product.attributes["colour"]: must not contain the NUL character (U+0000)',
    'product.attributes["ma\\u0000terial"]: key must not contain the NUL character (U+0000)',
    "product.image_urls[1]: must not contain the NUL character (U+0000)",
    "product.name: must not contain the NUL character (U+0000)",
    'product.variants[1].options["size"]: must not contain the NUL character (U+0000)',
    "product.variants[1].prices[0].currency_code: must not contain the NUL character (U+0000)",
    "product.variants[1].sku: must not contain the NUL character (U+0000)",
  ]);
});

test("NUL is found inside oneofs, maps of messages and lists of messages (google.protobuf.Value)", (t) => {
  const value = create(ValueSchema, {
    kind: {
      case: "structValue",
      value: {
        fields: {
          name: { kind: { case: "stringValue", value: `a${nul}` } },
          tags: { kind: { case: "listValue", value: { values: [{ kind: { case: "stringValue", value: "ok" } }, { kind: { case: "stringValue", value: nul } }] } } },
        },
      },
    },
  });
  t.deepEqual(
    nulTextViolations(ValueSchema, value).map((v) => v.field).sort(),
    ['struct_value.fields["name"].string_value', 'struct_value.fields["tags"].list_value.values[1].string_value'],
  );
});

test("the interceptor refuses NUL text with invalid_argument naming the field, before the handler runs, over Connect JSON and gRPC", async (t) => {
  let handled = 0;
  const { baseUrl } = await startServer(t, {
    routes: (router) => router.service(TestService, { echo: (req) => (handled++, { message: req.message }) }),
    interceptors: [errorsInterceptor({ logger: silentLogger() }), nulTextInterceptor()],
  });
  for (const transport of [createConnectTransport({ baseUrl, httpVersion: "1.1" }), createGrpcTransport({ baseUrl })]) {
    const client = createClient(TestService, transport);
    const error = await t.throwsAsync(client.echo({ message: `hello${nul}world` }));
    const connectError = ConnectError.from(error);
    t.is(connectError.code, Code.InvalidArgument);
    t.deepEqual(
      connectError.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field)),
      ["message"],
    );
    t.is((await client.echo({ message: "clean" })).message, "clean");
  }
  t.is(handled, 2, "only the clean requests reached the handler");
});
