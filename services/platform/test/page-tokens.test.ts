// Page tokens: bound to their query, checked for shape, and refused with a violation naming the field.
import test from "ava";
import { violations } from "../src/errors-interceptor.ts";
import { decodePageToken, encodePageToken } from "../src/page-tokens.ts";

test("a token round-trips for its own query and is refused by any other", (t) => {
  const query = { rpc: "ListOrders", status: ["CONFIRMED"] };
  const token = encodePageToken(query, ["01a1fd62-fdba-7048-bf79-90ea9cb676f5"]);
  const v = violations();
  t.deepEqual(decodePageToken(v, query, token), ["01a1fd62-fdba-7048-bf79-90ea9cb676f5"]);
  t.deepEqual(v.list, []);
  t.is(decodePageToken(v, { ...query, status: [] }, token), undefined);
  t.deepEqual(v.list.map((x) => x.field), ["page_token"]);
});

test("an empty token is the first page; garbage, oversize and ill-shaped positions are violations", (t) => {
  const query = { rpc: "ListPayments" };
  const v = violations();
  t.is(decodePageToken(v, query, ""), undefined);
  t.deepEqual(v.list, []);
  decodePageToken(v, query, "not base64 json", { field: "cursor" });
  decodePageToken(v, query, "x".repeat(2000));
  decodePageToken(v, query, encodePageToken(query, ["1; drop table"]), { valid: (p) => /^\d+$/.test(p[0]!) });
  t.deepEqual(v.list.map((x) => x.field), ["cursor", "page_token", "page_token"]);
});
