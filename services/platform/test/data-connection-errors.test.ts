// Which errors are a lost database connection (unavailable, and a read retried once), as plain
// functions and through a real server with the errors interceptor.
import test from "ava";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { isDatabaseConnectionLost, retryLostReadsInterceptor } from "../src/data/connection-errors.ts";
import { errorsInterceptor } from "../src/errors-interceptor.ts";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { silentLogger, startServer } from "./fixtures/serve/start.ts";

const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });

test("lost or refused connections are recognised, also as a cause; other database errors are not", (t) => {
  for (const code of ["08006", "08003", "57P01", "57P02", "57P03", "53300", "ECONNREFUSED", "ECONNRESET"]) t.true(isDatabaseConnectionLost(withCode(code)), code);
  t.true(isDatabaseConnectionLost(new Error("Connection terminated unexpectedly")));
  t.true(isDatabaseConnectionLost(new Error("timeout exceeded when trying to connect")));
  t.true(isDatabaseConnectionLost(new Error("a unit of work failed", { cause: withCode("57P01") })));
  t.true(isDatabaseConnectionLost(new AggregateError([withCode("ECONNREFUSED")], "all addresses refused")));
  for (const code of ["23505", "22021", "40001", "08P01", "42P01"]) t.false(isDatabaseConnectionLost(withCode(code)), code);
  t.false(isDatabaseConnectionLost(new Error("boom")));
  t.false(isDatabaseConnectionLost("57P01"));
});

test("a read-only call that lost its connection runs once more; a write does not and answers unavailable", async (t) => {
  const attempts = { echo: 0, record: 0 };
  const { baseUrl } = await startServer(t, {
    routes: (router) =>
      router.service(TestService, {
        echo(request) {
          // The first attempt loses its connection, the second one works.
          if (attempts.echo++ === 0) throw withCode("57P01", "terminating connection due to administrator command");
          return { message: request.message };
        },
        record() {
          attempts.record++;
          throw withCode("57P01", "terminating connection due to administrator command");
        },
      }),
    interceptors: [errorsInterceptor({ logger: silentLogger() }), retryLostReadsInterceptor()],
  });
  const client = createClient(TestService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
  t.is((await client.echo({ message: "again" })).message, "again");
  t.is(attempts.echo, 2);
  const error = ConnectError.from(await t.throwsAsync(client.record({ key: "k" })));
  t.is(error.code, Code.Unavailable);
  t.is(error.rawMessage, "the database is unavailable; try again");
  t.is(attempts.record, 1, "a write is not repeated by the server");
});
