// A private mesh for the edge's tests: identity, catalog, inventory, cart, payment and order started
// in-process on port 0 with unique Consul names (so parallel runs never meet), and an edge pointed at
// them by name. Services get their service tokens from this identity, as in the running mesh.
import { dropServiceDatabase, eventually, passingInConsul } from "@bazaar/platform/testing";
import { randomBytes } from "node:crypto";
import { createService, createLogger, createTokenVerifier, loadConfig, platformConfigSchema, type RunningService } from "@bazaar/platform";
import { identity, identityConfigSchema } from "@bazaar/identity";
import { catalog } from "@bazaar/catalog";
import { inventoryService } from "@bazaar/inventory";
import { cart, cartConfigSchema } from "@bazaar/cart";
import { payment, paymentConfigSchema } from "@bazaar/payment";
import { order, orderConfigSchema } from "@bazaar/order";
import { createEdge, type Edge, type EdgeOptions } from "../src/index.ts";

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;
const baseEnv = { ...process.env, BAZAAR_ENV: "development", LOG_LEVEL: process.env.EDGE_TEST_LOG_LEVEL ?? "silent", SHUTDOWN_GRACE_MS: "2000", EVENTS_NEW_CONSUMER_START: "new" };

export interface Mesh {
  names: { identity: string; catalog: string; inventory: string; cart: string; payment: string; order: string };
  adminEmail: string;
  jwksUrl: string;
  /** Starts an edge on port 0 in front of this mesh; stopped by mesh.stop(). */
  edge(options?: Partial<EdgeOptions>): Promise<{ edge: Edge; url: string; address: string }>;
  stop(): Promise<void>;
}

export async function startMesh(): Promise<Mesh> {
  const names = {
    identity: unique("identity"),
    catalog: unique("catalog"),
    inventory: unique("inventory"),
    cart: unique("cart"),
    payment: unique("payment"),
    order: unique("order"),
  };
  const adminEmail = `admin@${names.identity}.test`;
  const identityEnv = { ...baseEnv, IDENTITY_ADMIN_EMAIL: adminEmail };
  const identityConfig = loadConfig(identityConfigSchema, identityEnv);
  const identityDefinition = identity({ config: identityConfig, name: names.identity });
  const started: RunningService[] = [];
  const edges: Edge[] = [];
  const stop = async () => {
    await Promise.all(edges.map((e) => e.close()));
    await Promise.all(started.map((s) => s.stop()));
    for (const name of Object.values(names)) await dropServiceDatabase(name, baseEnv);
  };
  try {
    const identityService = await createService(identityDefinition, { config: identityConfig, verifier: identityDefinition.verifier });
    started.push(identityService);
    const jwksUrl = `http://${identityService.address}/.well-known/jwks.json`;
    // Service tokens come from this identity (the development client secret).
    const meshEnv = { ...baseEnv, IDENTITY_SERVICE_NAME: names.identity, AUTH_JWKS_URL: jwksUrl };
    const config = loadConfig(platformConfigSchema, meshEnv);
    const verifier = () => createTokenVerifier({ jwksUrl, issuer: "bazaar-identity", audience: "bazaar" });
    const cartConfig = loadConfig(cartConfigSchema, meshEnv);
    const paymentConfig = loadConfig(paymentConfigSchema, { ...meshEnv, PAYMENT_TEST_SLOW_MS: "200" });
    const orderConfig = loadConfig(orderConfigSchema, meshEnv);
    started.push(
      ...(await Promise.all([
        createService(catalog({ name: names.catalog, followStock: false }), { config, verifier: verifier() }),
        createService(inventoryService({ name: names.inventory }), { config, verifier: verifier() }),
        createService(cart({ config: cartConfig, name: names.cart }), {
          config: cartConfig,
          upstreams: { catalog: names.catalog, inventory: names.inventory },
          verifier: verifier(),
        }),
        createService(payment({ config: paymentConfig, name: names.payment }), { config: paymentConfig, verifier: verifier() }),
        createService(order({ config: orderConfig, name: names.order }), {
          config: orderConfig,
          upstreams: { cart: names.cart, inventory: names.inventory, payment: names.payment, identity: names.identity },
          verifier: verifier(),
        }),
      ])),
    );
    await Promise.all(Object.values(names).map((name) => passingInConsul(name, { consulAddr: config.CONSUL_HTTP_ADDR })));
    return {
      names,
      adminEmail,
      jwksUrl,
      async edge(options = {}) {
        const edge = createEdge({
          logger: createLogger({ service: "edge", level: baseEnv.LOG_LEVEL as "silent" }),
          verifier: createTokenVerifier({ jwksUrl, issuer: "bazaar-identity", audience: "bazaar" }),
          consulAddr: config.CONSUL_HTTP_ADDR,
          upstreams: {
            identity: names.identity,
            catalog: names.catalog,
            inventory: names.inventory,
            cart: names.cart,
            order: names.order,
            payment: names.payment,
          },
          jwksUrl,
          rateLimitsKey: `bazaar/edge-test/${unique("limits")}`,
          corsOrigins: ["https://shop.example.com"],
          ...options,
        });
        edges.push(edge);
        const { port } = await edge.listen();
        return { edge, url: `http://127.0.0.1:${port}`, address: `127.0.0.1:${port}` };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** POSTs Connect JSON; returns status, headers and parsed body. */
export async function postJson(url: string, path: string, body: unknown, token?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

/** The Connect GET URL of a read-only method. */
export const getUrl = (url: string, path: string, message: unknown) =>
  `${url}/${path}?connect=v1&encoding=json&message=${encodeURIComponent(JSON.stringify(message))}`;

export { eventually };
