// Order, payment and inventory events as messages: the order confirmation (lines, totals, address) by
// email and, for those who opted in and gave a phone, by SMS; cancellation and refund notices; a failed
// payment; and the staff alert when a SKU's stock falls to its threshold.
import { onEvent, typedQueries, type ConsumerDefinition, type EntityManager } from "@bazaar/platform";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import { OrderCancelledSchema, OrderPlacedSchema, OrderRefundedSchema, OrderRejectedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { LowStockSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { notificationEntities } from "./entities.ts";
import type { Links } from "./links.ts";
import { contactOf, type MessageQueue } from "./messages.ts";
import { DEFAULT_LOCALE } from "./templates.ts";

const tables = (em: EntityManager) => typedQueries(em, notificationEntities);

/** Money as templates take it: minor units (as a number, exact below 2^53) and the currency. */
const amount = (money: Money | undefined) => ({ minor: Number(money?.amountMinor ?? 0n), currency: money?.currencyCode || "EUR" });

const when = (time: Timestamp | undefined) => (time ? timestampDate(time) : undefined);

/** Refund ids the returns service gives its refunds ("return-<return id>"). */
const RETURN_REFUND_PREFIX = "return-";

/** Payment reasons an order is rejected for: the customer hears that the payment failed. */
const PAYMENT_REASONS = new Set(["PAYMENT_DECLINED", "INSUFFICIENT_FUNDS", "PAYMENT_FAILED"]);

export interface OrderConsumersOptions {
  name: string;
  queue: MessageQueue;
  links: Links;
  staffEmail: string;
}

export function orderConsumers(options: OrderConsumersOptions): ConsumerDefinition[] {
  const { queue, links } = options;
  const localeOf = async (em: EntityManager, userId: string) => (userId ? (await contactOf(em, userId))?.locale : undefined) ?? DEFAULT_LOCALE;
  const orderUrl = (orderId: string) => links.storefront(`/orders/${orderId}`);

  return [
    {
      domain: "order",
      durable: `${options.name}-order`,
      handlers: [
        onEvent(OrderPlacedSchema, async (event, { em, eventId }) => {
          const userId = event.userId || undefined;
          const address = event.shippingAddress;
          await tables(em)
            .insertInto("order_contact")
            .values({ order_id: event.orderId, user_id: userId ?? null, email: event.email, phone: address?.phone ?? "" })
            .onConflict((conflict) => conflict.column("order_id").doNothing())
            .execute();
          const locale = await localeOf(em, event.userId);
          const data = {
            orderId: event.orderId,
            orderUrl: orderUrl(event.orderId),
            lines: event.lines.map((line) => ({
              name: line.productName || line.sku,
              sku: line.sku,
              quantity: line.quantity,
              unitPrice: amount(line.unitPrice),
              lineTotal: { minor: Number(line.unitPrice?.amountMinor ?? 0n) * line.quantity, currency: line.unitPrice?.currencyCode || "EUR" },
            })),
            subtotal: amount(event.subtotal),
            discount: amount(event.discount),
            hasDiscount: (event.discount?.amountMinor ?? 0n) > 0n,
            shipping: amount(event.shipping),
            tax: amount(event.tax),
            total: amount(event.total),
            address: {
              recipientName: address?.recipientName ?? "",
              line1: address?.line1 ?? "",
              line2: address?.line2 ?? "",
              postalCode: address?.postalCode ?? "",
              city: address?.city ?? "",
              region: address?.region ?? "",
              countryCode: address?.countryCode ?? "",
            },
          };
          const common = { eventId, ...(userId ? { userId } : {}), template: "order-confirmation", topic: "orders" as const, locale, data, occurredAt: when(event.occurredAt) };
          await queue.enqueue(em, { ...common, channel: "email", recipient: event.email });
          // SMS only for a signed-in buyer who opted in (preferences), to the delivery address's phone.
          if (userId && address?.phone) await queue.enqueue(em, { ...common, channel: "sms", recipient: address.phone });
        }),
        onEvent(OrderCancelledSchema, async (event, { em, eventId }) => {
          if (!event.email) return;
          await queue.enqueue(em, {
            eventId,
            ...(event.userId ? { userId: event.userId } : {}),
            channel: "email",
            recipient: event.email,
            template: "order-cancelled",
            occurredAt: when(event.occurredAt),
            topic: "orders",
            locale: await localeOf(em, event.userId),
            data: { orderId: event.orderId, orderUrl: orderUrl(event.orderId), byCustomer: event.actor === "customer" },
          });
        }),
        onEvent(OrderRefundedSchema, async (event, { em, eventId }) => {
          // A return's refund: its own ReturnRefunded tells the shopper (returns-events.ts), once.
          if (event.refundId.startsWith(RETURN_REFUND_PREFIX)) return;
          const known = event.email ? { email: event.email, userId: event.userId } : await tables(em).selectFrom("order_contact").select(["email", "user_id as userId"]).where("order_id", "=", event.orderId).executeTakeFirst();
          if (!known?.email) return;
          await queue.enqueue(em, {
            eventId,
            ...(known.userId ? { userId: known.userId } : {}),
            channel: "email",
            recipient: known.email,
            template: "order-refunded",
            occurredAt: when(event.occurredAt),
            topic: "orders",
            locale: await localeOf(em, known.userId ?? ""),
            data: { orderId: event.orderId, orderUrl: orderUrl(event.orderId), amount: amount(event.amount), totalRefunded: amount(event.totalRefunded), full: event.full },
          });
        }),
        onEvent(OrderRejectedSchema, async (event, { em, eventId }) => {
          if (!event.email || !PAYMENT_REASONS.has(event.reason)) return;
          await queue.enqueue(em, {
            eventId,
            ...(event.userId ? { userId: event.userId } : {}),
            channel: "email",
            recipient: event.email,
            template: "payment-failed",
            occurredAt: when(event.occurredAt),
            topic: "orders",
            locale: await localeOf(em, event.userId),
            data: { orderId: event.orderId, reason: event.reason, cartUrl: links.storefront("/cart") },
          });
        }),
      ],
    },
    {
      domain: "inventory",
      durable: `${options.name}-inventory`,
      handlers: [
        onEvent(LowStockSchema, async (event, { em, eventId }) => {
          await queue.enqueue(em, {
            eventId,
            channel: "email",
            recipient: options.staffEmail,
            template: "low-stock",
            occurredAt: when(event.occurredAt),
            topic: "staff",
            locale: DEFAULT_LOCALE,
            data: { sku: event.sku, available: Number(event.available), threshold: Number(event.threshold), stockUrl: links.storefront(`/admin/stock/${encodeURIComponent(event.sku)}`) },
          });
        }),
      ],
    },
  ];
}
