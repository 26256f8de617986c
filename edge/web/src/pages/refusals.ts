// The API's refusals as sentences a shopper can act on (ErrorInfo reasons where the API gives them).
import { ConnectError, Code } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { strings } from "../strings.ts";

const byReason: Record<string, string> = {
  OUT_OF_STOCK: "Some items are no longer in stock in that quantity. Lower the quantity or remove them from your cart.",
  INSUFFICIENT_STOCK: "Some items are no longer in stock in that quantity. Lower the quantity or remove them from your cart.",
  PAYMENT_DECLINED: "Your card was declined. Try another card.",
  PAYMENT_FAILED: "Your card was declined. Try another card.",
  INSUFFICIENT_FUNDS: "Your card was declined for insufficient funds. Try another card.",
  RESERVATION_EXPIRED: "Your items were held too long. Place the order again.",
  IN_PROGRESS: "Your order is still being placed. Wait a moment before trying again.",
  CART_CHECKOUT_IN_PROGRESS: "Your order is still being placed. Wait a moment before trying again.",
  PROMOTION_CODE_UNKNOWN: "We do not know that code. Check it and try again.",
  PROMOTION_EXPIRED: "That code has expired.",
  PROMOTION_NOT_STARTED: "That code is not valid yet.",
  PROMOTION_PAUSED: "That code is not available right now.",
  PROMOTION_LIMIT_REACHED: "That code has been used as often as it can be.",
  ALREADY_REVIEWED: strings.reviews.alreadyReviewed,
  INVALID_UNSUBSCRIBE_TOKEN: strings.unsubscribe.badLink,
  TOTAL_MISMATCH: "A price changed since you opened your cart. Review the new total and place the order again.",
};

export const reasonOf = (error: ConnectError) => error.findDetails(ErrorInfoSchema)[0]?.reason;

export function refusalMessage(error: unknown): string {
  if (!(error instanceof ConnectError)) return strings.somethingWrong;
  const reason = reasonOf(error);
  if (reason && byReason[reason]) return byReason[reason];
  if (error.code === Code.InvalidArgument || error.code === Code.FailedPrecondition) return error.rawMessage;
  if (error.code === Code.Unavailable || error.code === Code.DeadlineExceeded) return "The shop is busy right now. Please try again in a moment.";
  return strings.somethingWrong;
}

/**
 * The API's per-field violations (google.rpc.BadRequest) by field, for showing each on its input;
 * `fields` are the request's field names (snake_case, as the API names them) the form shows.
 */
export function fieldErrors(error: unknown, fields: readonly string[]): Record<string, string> {
  if (!(error instanceof ConnectError)) return {};
  const found: Record<string, string> = {};
  for (const detail of error.findDetails(BadRequestSchema)) {
    for (const v of detail.fieldViolations) {
      // "address.line1" → "line1": the form names the field, not the message that carries it.
      const field = v.field.split(".").pop() ?? v.field;
      if (fields.includes(field)) found[field] ??= `${v.description.charAt(0).toUpperCase()}${v.description.slice(1)}.`;
    }
  }
  return found;
}

/** A refusal's message unless every violation it carries is shown on a field of the form. */
export function formMessage(error: unknown, shownOnFields: Record<string, string>): string {
  if (!error) return "";
  if (error instanceof ConnectError && error.code === Code.InvalidArgument && Object.keys(shownOnFields).length > 0) {
    const all = error.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations);
    if (all.length === Object.keys(shownOnFields).length) return "";
  }
  return refusalMessage(error);
}
