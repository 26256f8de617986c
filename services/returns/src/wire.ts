// Statuses, reasons and conditions between the wire's enums and the database's text.
import { ReturnReason, ReturnStatus } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";

export type Status = "REQUESTED" | "APPROVED" | "RECEIVED" | "REFUNDED" | "REJECTED" | "CANCELLED";
export type Reason = "DAMAGED" | "WRONG_ITEM" | "NOT_AS_DESCRIBED" | "CHANGED_MIND" | "OTHER";

export const statusToWire: Record<Status, ReturnStatus> = {
  REQUESTED: ReturnStatus.REQUESTED,
  APPROVED: ReturnStatus.APPROVED,
  RECEIVED: ReturnStatus.RECEIVED,
  REFUNDED: ReturnStatus.REFUNDED,
  REJECTED: ReturnStatus.REJECTED,
  CANCELLED: ReturnStatus.CANCELLED,
};

const reasons: Record<Reason, ReturnReason> = {
  DAMAGED: ReturnReason.DAMAGED,
  WRONG_ITEM: ReturnReason.WRONG_ITEM,
  NOT_AS_DESCRIBED: ReturnReason.NOT_AS_DESCRIBED,
  CHANGED_MIND: ReturnReason.CHANGED_MIND,
  OTHER: ReturnReason.OTHER,
};

export const reasonToWire = (reason: string): ReturnReason => reasons[reason as Reason] ?? ReturnReason.UNSPECIFIED;
export const reasonFromWire = (reason: ReturnReason): Reason | undefined => (Object.keys(reasons) as Reason[]).find((key) => reasons[key] === reason);
export const statusFromWire = (status: ReturnStatus): Status | undefined => (Object.keys(statusToWire) as Status[]).find((key) => statusToWire[key] === status);
