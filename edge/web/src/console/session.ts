// The console's session: sign-in through identity's Login (and CompleteMfaLogin when the account
// has MFA), then @bazaar/client's session on those tokens with clients of the services staff run,
// and which of them are in the mesh (sections.ts).
// The tokens live in memory only — never in storage — so a reload asks to sign in again.
// Everything goes as POST (useHttpGet false): staff must read what is current, not an answer the
// edge or the browser cached for the storefront (a cached product would carry a stale etag).
import { createBazaarSession, type BazaarSession, type Tokens } from "@bazaar/client";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { IdentityService, type User } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { OrderService } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { ShippingService } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { PaymentService } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { ReturnsService } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { NotificationService } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { probeServices, type ServiceName } from "./sections.ts";

export interface StaffClient {
  session: BazaarSession;
  /** The signed-in account. */
  user: User;
  identity: Client<typeof IdentityService>;
  catalog: Client<typeof CatalogService>;
  inventory: Client<typeof InventoryService>;
  orders: Client<typeof OrderService>;
  shipping: Client<typeof ShippingService>;
  returns: Client<typeof ReturnsService>;
  promotions: Client<typeof PromotionService>;
  payments: Client<typeof PaymentService>;
  notifications: Client<typeof NotificationService>;
  /** The services present in the mesh at sign-in (sections.ts): the others' sections are hidden. */
  services: ReadonlySet<ServiceName>;
}

/** What a sign-in attempt led to: the console, or a second step for the MFA code. */
export type SignInStep = { kind: "signed-in"; client: StaffClient } | { kind: "mfa"; complete(code: string): Promise<StaffClient> };

/** The account signed in, but it is not staff: the API refused it an admin method. */
export class NotStaffError extends Error {
  constructor(readonly refusal: ConnectError) {
    super(refusal.rawMessage);
    this.name = "NotStaffError";
  }
}

const baseUrl = () => window.location.origin;

export async function signIn(email: string, password: string): Promise<SignInStep> {
  const identity = createClient(IdentityService, createBazaarSession({ baseUrl: baseUrl(), useHttpGet: false }).transport);
  const login = await identity.login({ email, password });
  if (login.tokens) return { kind: "signed-in", client: await openConsole(login.tokens) };
  const challenge = login.mfaChallenge;
  return {
    kind: "mfa",
    async complete(code) {
      const completed = await identity.completeMfaLogin({ mfaChallenge: challenge, code });
      if (!completed.tokens) throw new ConnectError("identity answered no tokens", Code.Internal);
      return openConsole(completed.tokens);
    },
  };
}

async function openConsole(pair: Tokens & { userId: string }): Promise<StaffClient> {
  const session = createBazaarSession({ baseUrl: baseUrl(), tokens: { accessToken: pair.accessToken, refreshToken: pair.refreshToken }, useHttpGet: false });
  const identity = createClient(IdentityService, session.transport);
  const client: Omit<StaffClient, "user" | "services"> = {
    session,
    identity,
    catalog: createClient(CatalogService, session.transport),
    inventory: createClient(InventoryService, session.transport),
    orders: createClient(OrderService, session.transport),
    shipping: createClient(ShippingService, session.transport),
    returns: createClient(ReturnsService, session.transport),
    promotions: createClient(PromotionService, session.transport),
    payments: createClient(PaymentService, session.transport),
    notifications: createClient(NotificationService, session.transport),
  };
  try {
    // The API decides who is staff: an admin method answers, or refuses with its reason.
    await identity.listUsers({ pageSize: 1 });
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.PermissionDenied) {
      await session.signOut().catch(() => undefined);
      throw new NotStaffError(error);
    }
    throw error;
  }
  const [{ user }, services] = await Promise.all([identity.getUser({ userId: pair.userId }), probeServices(client)]);
  if (!user) throw new ConnectError("identity answered no user", Code.Internal);
  return { ...client, user, services };
}
