// natsPermissions: what a service's NATS user may do follows from the event domains it declares.
import test from "ava";
import { natsAuthorization, natsPermissions } from "../src/events/nats-permissions.ts";
import { EventContractError } from "../src/events/subjects.ts";

test("a service without events may only follow identity's stream (revocations): no stream of its own, no dead letter, no event", (t) => {
  const { publish, subscribe } = natsPermissions({});
  t.deepEqual(subscribe, ["_INBOX.>"]);
  t.true(publish.includes("$JS.API.STREAM.CREATE.BAZAAR_IDENTITY"));
  t.true(publish.includes("$JS.API.CONSUMER.MSG.NEXT.BAZAAR_IDENTITY.>"));
  // Its revocation feed ensures identity's stream, and ensureStreams the dead letters' with it (seen refused in a mesh run).
  t.true(publish.includes("$JS.API.STREAM.INFO.BAZAAR_DLQ"));
  t.false(publish.some((subject) => subject.startsWith("bazaar.")), publish.join(" "));
});

test("a publisher gets its own domain's subjects only; a consumer reads its streams and sends dead letters", (t) => {
  const { publish } = natsPermissions({ publishes: ["shipping"], consumes: ["order"] });
  t.deepEqual(publish.filter((subject) => subject.startsWith("bazaar.")), ["bazaar.shipping.>", "bazaar.dlq.>"]);
  t.true(publish.includes("$JS.API.CONSUMER.DURABLE.CREATE.BAZAAR_ORDER.>"));
  t.false(publish.some((subject) => subject.startsWith("$JS.API.CONSUMER.") && subject.includes("BAZAAR_SHIPPING")), "no consumers on its own stream");
  t.false(publish.some((subject) => subject.includes(".DELETE.")), "never deletes");
  t.false(natsPermissions({ publishes: ["shipping"] }).publish.includes("bazaar.dlq.>"), "no dead letters without consumers");
});

test("a domain that cannot name a stream is refused by name; an admin user has no permissions block", (t) => {
  t.throws(() => natsPermissions({ publishes: ["Order!"] }), { instanceOf: EventContractError, message: /Order!/ });
  const block = natsAuthorization([{ user: "stack-admin", password: '"pw"' }, { user: "cart", password: "$NATS_PASSWORD_CART", events: {} }]);
  t.regex(block, /user: stack-admin\n\s*password: "pw"\n\s*\}/);
  t.regex(block, /user: cart\n\s*password: \$NATS_PASSWORD_CART\n\s*permissions:/);
});
