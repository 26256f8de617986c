// A private mesh for the edge's tests: identity, catalog, inventory, shipping, promotion, cart, payment and order (and,
// when asked, notification) started
// in-process on port 0 with unique Consul names (so parallel runs never meet), and an edge pointed at
// them by name. Services get their service tokens from this identity, as in the running mesh.
import { dropServiceDatabase, eventually, passingInConsul } from "@bazaar/platform/testing";
import { randomBytes } from "node:crypto";
import { createOpener, createService, createLogger, createTokenVerifier, DEVELOPMENT_SEALING_PRIVATE_KEY, loadConfig, platformConfigSchema, type RunningService } from "@bazaar/platform";
import { fromBinary } from "@bufbuild/protobuf";
import { EmailVerificationRequestedSchema, PasswordResetRequestedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { grantFirstAdmin, identity, identityConfigSchema } from "@bazaar/identity";
import { catalog } from "@bazaar/catalog";
import { inventory } from "@bazaar/inventory";
import { cart, cartConfigSchema } from "@bazaar/cart";
import { payment, paymentConfigSchema } from "@bazaar/payment";
import { order, orderConfigSchema } from "@bazaar/order";
import { seedShipping, shipping, shippingConfigSchema } from "@bazaar/shipping";
import { promotion, promotionConfigSchema } from "@bazaar/promotion";
import { returns, returnsConfigSchema } from "@bazaar/returns";
import { createLinks, notification, notificationConfigSchema } from "@bazaar/notification";
import { createEdge, type Edge, type EdgeOptions } from "../src/index.ts";

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;
const baseEnv = { ...process.env, BAZAAR_ENV: "development", LOG_LEVEL: process.env.EDGE_TEST_LOG_LEVEL ?? "silent", SHUTDOWN_GRACE_MS: "2000", EVENTS_NEW_CONSUMER_START: "new" };

export interface Mesh {
  names: { identity: string; catalog: string; inventory: string; cart: string; payment: string; order: string; shipping: string; promotion: string; returns: string; notification?: string };
  adminEmail: string;
  /** Makes the registered account with `adminEmail` the first admin, as an operator does (admin:bootstrap). */
  bootstrapAdmin(): Promise<void>;
  jwksUrl: string;
  /**
   * The token identity's latest verification or password-reset email for `userId` carries (from its
   * outbox event, opened with the development key as the notification service does); "" when none.
   */
  mailedToken(userId: string, purpose: "verify_email" | "reset_password"): Promise<string>;
  /**
   * The token of the unsubscribe link the notification service puts in its emails to `userId` about
   * `topic` (made by its own link code with its secret); only with `startMesh({ notification: true })`.
   */
  unsubscribeToken(userId: string, topic: "shipping" | "marketing"): string;
  /** Starts an edge on port 0 in front of this mesh; stopped by mesh.stop(). */
  edge(options?: Partial<EdgeOptions>): Promise<{ edge: Edge; url: string; address: string }>;
  stop(): Promise<void>;
}

export interface MeshOptions {
  /**
   * Also start the notification service (the edge routes to it). Its mail goes nowhere (an SMTP port
   * that nothing listens on: sends fail and wait for their retry); the mesh's tests use its RPCs.
   */
  notification?: boolean;
}

export async function startMesh(options: MeshOptions = {}): Promise<Mesh> {
  const names: Mesh["names"] = {
    identity: unique("identity"),
    catalog: unique("catalog"),
    inventory: unique("inventory"),
    cart: unique("cart"),
    payment: unique("payment"),
    order: unique("order"),
    shipping: unique("shipping"),
    promotion: unique("promotion"),
    returns: unique("returns"),
    ...(options.notification ? { notification: unique("notification") } : {}),
  };
  const adminEmail = `admin@${names.identity}.test`;
  // Identity gathers a user's download from the mesh's holders of personal data, by their names here.
  const holders = (["order", "catalog", "cart", "shipping", "returns", "promotion", "payment", "notification"] as const).filter((holder) => names[holder]);
  const identityEnv = {
    ...baseEnv,
    IDENTITY_PERSONAL_DATA_HOLDERS: holders.join(","),
    UPSTREAMS: holders.map((holder) => `${holder}=${names[holder]}`).join(","),
  };
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
    const identityService = await createService(identityDefinition, { config: identityConfig, verifier: identityDefinition.verifier, serviceCredentials: identityDefinition.serviceCredentials });
    started.push(identityService);
    const jwksUrl = `http://${identityService.address}/.well-known/jwks.json`;
    // Service tokens come from this identity (the development client secret).
    const meshEnv = { ...baseEnv, IDENTITY_SERVICE_NAME: names.identity, AUTH_JWKS_URL: jwksUrl };
    const config = loadConfig(platformConfigSchema, meshEnv);
    const verifier = () => createTokenVerifier({ jwksUrl, issuer: "bazaar-identity", audience: "bazaar" });
    const cartConfig = loadConfig(cartConfigSchema, meshEnv);
    const paymentConfig = loadConfig(paymentConfigSchema, { ...meshEnv, PAYMENT_TEST_SLOW_MS: "200" });
    const orderConfig = loadConfig(orderConfigSchema, meshEnv);
    const shippingConfig = loadConfig(shippingConfigSchema, meshEnv);
    const shippingService = await createService(shipping({ config: shippingConfig, name: names.shipping }), { config: shippingConfig, verifier: verifier() });
    started.push(shippingService);
    await seedShipping(shippingService.runtime.database);
    const promotionConfig = loadConfig(promotionConfigSchema, { ...meshEnv, DB_POOL_SIZE: "2" });
    started.push(
      ...(await Promise.all([
        createService(catalog({ name: names.catalog, followStock: false }), { config, verifier: verifier() }),
        createService(inventory({ name: names.inventory }), { config, verifier: verifier() }),
        createService(cart({ config: cartConfig, name: names.cart }), {
          config: cartConfig,
          upstreams: { catalog: names.catalog, inventory: names.inventory, shipping: names.shipping, promotion: names.promotion },
          verifier: verifier(),
        }),
        createService(promotion({ config: promotionConfig, name: names.promotion, followOrders: false }), { config: promotionConfig, verifier: verifier() }),
        createService(payment({ config: paymentConfig, name: names.payment }), { config: paymentConfig, verifier: verifier() }),
        createService(order({ config: orderConfig, name: names.order }), {
          config: orderConfig,
          upstreams: { cart: names.cart, inventory: names.inventory, payment: names.payment, identity: names.identity, promotion: names.promotion },
          verifier: verifier(),
        }),
      ])),
    );
    // Returns calls order and inventory by their names here (UPSTREAMS), like the running mesh by Consul's.
    const returnsConfig = loadConfig(returnsConfigSchema, { ...meshEnv, DB_POOL_SIZE: "2", UPSTREAMS: `order=${names.order},inventory=${names.inventory},shipping=${names.shipping}` });
    started.push(await createService(returns({ config: returnsConfig, name: names.returns }), { config: returnsConfig, verifier: verifier() }));
    const notificationConfig = names.notification ? loadConfig(notificationConfigSchema, { ...meshEnv, DB_POOL_SIZE: "2", SMTP_URL: "smtp://127.0.0.1:9" }) : undefined;
    if (names.notification && notificationConfig) started.push(await createService(notification({ config: notificationConfig, name: names.notification }), { config: notificationConfig, verifier: verifier() }));
    const links = notificationConfig && createLinks({ storefrontUrl: notificationConfig.STOREFRONT_URL, secret: notificationConfig.NOTIFICATION_LINK_SECRET, unsubscribeTtlDays: notificationConfig.NOTIFICATION_UNSUBSCRIBE_TTL_DAYS });
    await Promise.all(Object.values(names).map((name) => passingInConsul(name, { consulAddr: config.CONSUL_HTTP_ADDR })));
    return {
      names,
      adminEmail,
      async bootstrapAdmin() {
        const outcome = await grantFirstAdmin(identityService.runtime.database, adminEmail);
        if (outcome !== "granted") throw new Error(`bootstrapAdmin: ${outcome}`);
      },
      jwksUrl,
      async mailedToken(userId, purpose) {
        const schema = purpose === "verify_email" ? EmailVerificationRequestedSchema : PasswordResetRequestedSchema;
        // Identity answers a reset request before it looks the account up (it queues the address), so
        // the event may come a moment after the answer.
        const event = await eventually(`${purpose} event for ${userId}`, async () => {
          const rows = await identityService.runtime.database.em().execute<Array<{ payload: Buffer }>>("select payload from platform_outbox where type_name = ? order by event_id desc", [schema.typeName]);
          return rows.map((row) => fromBinary(schema, new Uint8Array(row.payload))).find((e) => e.userId === userId);
        }, 30_000, 200);
        return (await createOpener(DEVELOPMENT_SEALING_PRIVATE_KEY)).open(event.sealedToken, `${purpose}:${userId}`);
      },
      unsubscribeToken(userId, topic) {
        if (!links) throw new Error("unsubscribeToken: start the mesh with { notification: true }");
        return links.unsubscribeToken(userId, topic, "email");
      },
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
            shipping: names.shipping,
            promotion: names.promotion,
            returns: names.returns,
            ...(names.notification ? { notification: names.notification } : {}),
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
