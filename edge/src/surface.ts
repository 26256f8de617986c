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
import { NotificationService } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { ShippingService } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { ReturnsService } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";

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
    ExportPersonalData: "user",
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
    ApplyPromotionCode: "personal",
    RemovePromotionCode: "personal",
    // PrepareCheckout, CompleteCart: the order service's steps, never the browser's.
  }),
  entry(OrderService, {
    PlaceOrder: "personal",
    GetOrder: "personal",
    ListMyOrders: "user",
    // A guest cancels with the cart token, as they read the order.
    CancelOrder: "personal",
    ListOrders: "admin",
    UpdateOrderStatus: "admin",
    RefundOrder: "admin",
  }),
  entry(PaymentService, {
    GetPayment: "admin",
    ListPayments: "admin",
    // Authorise, capture, void and refund are the order service's steps.
  }),
  entry(NotificationService, {
    // The token of an unsubscribe link is the credential: it works without signing in.
    Unsubscribe: "public",
    GetMyPreferences: "user",
    UpdateMyPreferences: "user",
    ListMyNotifications: "user",
    ListNotifications: "admin",
    ListTemplates: "admin",
    PreviewTemplate: "admin",
    ListProviderMessages: "admin",
  }),
  entry(ShippingService, {
    // A shopper's own shipments and tracking (a guest's with the cart token).
    GetShipment: "personal",
    ListOrderShipments: "personal",
    CreateShippingZone: "admin",
    GetShippingZone: "admin",
    ListShippingZones: "admin",
    UpdateShippingZone: "admin",
    DeleteShippingZone: "admin",
    CreateShippingMethod: "admin",
    ListShippingMethods: "admin",
    UpdateShippingMethod: "admin",
    GetShippingQuote: "admin",
    ListShipments: "admin",
    PackShipment: "admin",
    BuyShipmentLabel: "admin",
    ShipShipment: "admin",
    SplitShipment: "admin",
    CancelShipment: "admin",
    RecordTrackingUpdate: "admin",
    // Quotes are made and checked by the cart (shoppers see them through CartService); return labels
    // are bought by the returns service (staff ask through ApproveReturn).
  }),
  entry(PromotionService, {
    CreatePromotion: "admin",
    GetPromotion: "admin",
    UpdatePromotion: "admin",
    PausePromotion: "admin",
    ArchivePromotion: "admin",
    ListPromotions: "admin",
    GeneratePromotionCodes: "admin",
    ListPromotionCodes: "admin",
    ListPromotionRedemptions: "admin",
    // EvaluateCart is the cart's, RedeemPromotions and ReleasePromotions the order saga's: internal.
  }),
  entry(ReturnsService, {
    // A shopper's own returns (a guest's with the order's cart token).
    RequestReturn: "personal",
    GetReturn: "personal",
    ListOrderReturns: "personal",
    CancelReturn: "personal",
    ListReturns: "admin",
    ApproveReturn: "admin",
    RejectReturn: "admin",
    ReceiveReturn: "admin",
    RefundReturn: "admin",
  }),
];
