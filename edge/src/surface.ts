// The public surface of Bazaar, declared once: per service and method, who may call it through the
// edge. "public": anyone, and the answer is the same for everyone (cacheable); "personal": anyone, but
// the answer is the caller's own (a guest's cart, proven by its x-cart-token), so it is never cached
// publicly; "user": a signed-in user (a verified bearer token); "admin": the admin role.
// A service or method not listed here is not routed: it answers not_found, and reflection and the
// OpenAPI document do not show it. Adding an RPC to a listed service needs only a line here.
import type { DescService } from "@bufbuild/protobuf";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { OrderService } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { PaymentService } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";

export type Access = "public" | "personal" | "user" | "admin";

export interface SurfaceEntry<S extends DescService = DescService> {
  service: S;
  /** By method name as in the proto (e.g. "ListProducts"). */
  methods: Partial<Record<S["methods"][number]["name"], Access>>;
}

const entry = <S extends DescService>(service: S, methods: SurfaceEntry<S>["methods"]): SurfaceEntry => ({ service, methods }) as SurfaceEntry;

export const surface: readonly SurfaceEntry[] = [
  entry(IdentityService, {
    Register: "public",
    VerifyEmail: "public",
    Login: "public",
    CompleteMfaLogin: "public",
    RefreshToken: "public",
    Logout: "public",
    GetJwks: "public",
    RequestPasswordReset: "public",
    CompletePasswordReset: "public",
    ResendEmailVerification: "user",
    GetUser: "user",
    UpdateUser: "user",
    ChangePassword: "user",
    DeleteUser: "user",
    ListSessions: "user",
    RevokeSession: "user",
    EnrollMfa: "user",
    ConfirmMfa: "user",
    DisableMfa: "user",
    CreateAddress: "user",
    ListAddresses: "user",
    UpdateAddress: "user",
    DeleteAddress: "user",
    ListUsers: "admin",
    SetUserRoles: "admin",
    DisableUser: "admin",
    EnableUser: "admin",
    // RotateSigningKey: operators only; IssueServiceToken: services only — never through the edge.
  }),
  entry(CatalogService, {
    GetProduct: "public",
    ListProducts: "public",
    SearchProducts: "public",
    GetCategory: "public",
    ListCategories: "public",
    ListReviews: "public",
    CreateReview: "user",
    CreateProduct: "admin",
    UpdateProduct: "admin",
    ArchiveProduct: "admin",
    ImportProducts: "admin",
    CreateCategory: "admin",
    UpdateCategory: "admin",
    DeleteCategory: "admin",
  }),
  entry(InventoryService, {
    GetStockLevel: "public",
    BatchGetStockLevels: "public",
    ListStockLevels: "admin",
    ReceiveStock: "admin",
    AdjustStock: "admin",
    SetLowStockThreshold: "admin",
    ListStockMovements: "admin",
    // Reservations are the order service's business, never the browser's.
  }),
  entry(CartService, {
    CreateCart: "personal",
    GetCart: "personal",
    AddCartItem: "personal",
    UpdateCartItem: "personal",
    RemoveCartItem: "personal",
    ClearCart: "personal",
    SetCartShipping: "personal",
    ListShippingOptions: "public",
    MergeCart: "user",
    // PrepareCheckout, CompleteCart: the order service's steps, never the browser's.
  }),
  entry(OrderService, {
    PlaceOrder: "personal",
    GetOrder: "personal",
    ListMyOrders: "user",
    CancelOrder: "user",
    ListOrders: "admin",
    UpdateOrderStatus: "admin",
    RefundOrder: "admin",
  }),
  entry(PaymentService, {
    GetPayment: "admin",
    ListPayments: "admin",
    // Authorise, capture, void and refund are the order service's steps.
  }),
];
