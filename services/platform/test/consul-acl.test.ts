// Consul with ACLs on and default deny, as the prod overlay runs it (deploy/overlays/prod/consul/): the
// platform sends CONSUL_HTTP_TOKEN on every Consul call (registration, discovery watches, KV), and the
// shipped policies let a service register only itself and read the catalog, and the edge only read
// its rate-limits key, which operators write. A private Consul agent of its own, started here.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { consulBinary, freePort, repositoryRoot, stackSettings } from "@bazaar/stack";
import { watchConsulService } from "../src/clients/consul-watch.ts";
import { registerInConsul } from "../src/registration.ts";
import { eventually } from "../src/testing.ts";

const policies = path.join(repositoryRoot, "deploy/overlays/prod/consul");
const policy = (file: string, service?: string) => readFileSync(path.join(policies, file), "utf8").replaceAll("SERVICE", service ?? "SERVICE");
const root = randomUUID();

async function startAclConsul(t: { teardown(fn: () => void): void }): Promise<string> {
  const [http, server, serfLan] = [await freePort(), await freePort(), await freePort()];
  const binary = await consulBinary(stackSettings());
  const agent = spawn(
    binary,
    [
      "agent", "-dev", "-bind=127.0.0.1", "-client=127.0.0.1", `-http-port=${http}`, `-server-port=${server}`, `-serf-lan-port=${serfLan}`,
      "-serf-wan-port=-1", "-dns-port=-1", "-grpc-port=-1", "-grpc-tls-port=-1",
      "-hcl", policy("acl.hcl"),
      "-hcl", `acl { tokens { initial_management = "${root}" agent = "${root}" } }`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  agent.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  t.teardown(() => agent.kill("SIGKILL"));
  const addr = `127.0.0.1:${http}`;
  await eventually(`the ACL Consul at ${addr} to elect itself and take the management token ${stderr}`, async () => {
    if (agent.exitCode !== null) throw new Error(`consul exited: ${stderr}`);
    const response = await fetch(`http://${addr}/v1/acl/token/self`, { headers: { "X-Consul-Token": root } }).catch(() => undefined);
    return response?.status === 200;
  }, 90_000);
  return addr;
}

async function consul(addr: string, method: string, route: string, token: string | undefined, body?: unknown): Promise<Response> {
  return fetch(`http://${addr}${route}`, { method, headers: token ? { "X-Consul-Token": token } : {}, ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }) });
}

/** A token whose policy is `rules`, made with the management token. */
async function tokenFor(addr: string, name: string, rules: string): Promise<string> {
  const created = await consul(addr, "PUT", "/v1/acl/policy", root, { Name: name, Rules: rules });
  if (!created.ok) throw new Error(`policy ${name}: ${created.status} ${await created.text()}`);
  const token = await consul(addr, "PUT", "/v1/acl/token", root, { Policies: [{ Name: name }] });
  if (!token.ok) throw new Error(`token ${name}: ${token.status} ${await token.text()}`);
  return ((await token.json()) as { SecretID: string }).SecretID;
}

test.serial("with default deny, each service registers only itself and finds the others with CONSUL_HTTP_TOKEN; the edge reads its key, operators write it", async (t) => {
  const addr = await startAclConsul(t);
  const cart = await tokenFor(addr, "cart", policy("service.hcl", "cart"));
  const edge = await tokenFor(addr, "edge", `${policy("service.hcl", "edge")}\n${policy("edge.hcl")}`);
  const operator = await tokenFor(addr, "operator", policy("operator.hcl"));
  const order = await tokenFor(addr, "order", policy("service.hcl", "order"));
  const saved = process.env.CONSUL_HTTP_TOKEN;
  t.teardown(() => (saved === undefined ? delete process.env.CONSUL_HTTP_TOKEN : (process.env.CONSUL_HTTP_TOKEN = saved)));

  // An order instance without a check (passing), registered with order's own token.
  const orderId = `order-${randomUUID()}`;
  t.is((await consul(addr, "PUT", "/v1/agent/service/register", order, { ID: orderId, Name: "order", Address: "127.0.0.9", Port: 7001 })).status, 200);

  // Without a token nothing is visible: the watch keeps failing on Consul's refusal.
  delete process.env.CONSUL_HTTP_TOKEN;
  const anonymous = watchConsulService({ consulAddr: addr, serviceName: "order", minBackoffMs: 50, maxBackoffMs: 200 });
  t.teardown(() => anonymous.close());
  await eventually("the anonymous watch to be refused", async () => /403|ACL not found|Permission denied/i.test(anonymous.lastError()?.message ?? "") || (anonymous.instances()?.length === 0));
  t.deepEqual(anonymous.instances() ?? [], [], "an anonymous watch sees no instance");

  // With CONSUL_HTTP_TOKEN (cart's): the watch sends it and sees order's instance.
  process.env.CONSUL_HTTP_TOKEN = cart;
  const watch = watchConsulService({ consulAddr: addr, serviceName: "order" });
  t.teardown(() => watch.close());
  const found = await watch.ready(AbortSignal.timeout(30_000));
  t.deepEqual(found.map((i) => i.id), [orderId]);

  // Registration sends it too: cart may register cart, not order.
  const own = await registerInConsul({ consulAddr: addr, name: "cart", id: `cart-${randomUUID()}`, address: "127.0.0.8", port: 7002 });
  t.teardown(() => own.deregister());
  const other = await registerInConsul({ consulAddr: addr, name: "order", id: `order-${randomUUID()}`, address: "127.0.0.8", port: 7003 }).then(
    () => "registered",
    (error: Error) => error.message,
  );
  t.regex(other, /refused to register.*HTTP 403/s);

  // The edge's rate limits: operators write, the edge reads and may not write, a service may not read.
  const key = "/v1/kv/bazaar/edge/rate-limits";
  t.is((await consul(addr, "PUT", key, operator, '{"perAddress":10}')).status, 200);
  t.is((await consul(addr, "GET", `${key}?raw`, edge)).status, 200);
  t.is(await (await consul(addr, "GET", `${key}?raw`, edge)).text(), '{"perAddress":10}');
  t.is((await consul(addr, "PUT", key, edge, "{}")).status, 403);
  t.is((await consul(addr, "GET", key, cart)).status, 403);
});
