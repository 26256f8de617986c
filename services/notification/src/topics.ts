// What a message is about, and on which channel, decides whether a user may turn it off. Email is the
// channel of record: account security and order messages (and staff alerts) always go out by email;
// shipping notices are on until turned off; marketing is off until opted in. SMS and push are opt-in for
// every topic (they need a phone number or a device, and cost).
export const CHANNELS = ["email", "sms", "push"] as const;
export type Channel = (typeof CHANNELS)[number];

export const USER_TOPICS = ["orders", "shipping", "account_security", "marketing"] as const;
export type UserTopic = (typeof USER_TOPICS)[number];
export type Topic = UserTopic | "staff";

const requiredTopics: readonly Topic[] = ["account_security", "orders", "staff"];

/** Whether nobody can turn `topic` off on `channel` (security and transactional email). */
export const isRequired = (topic: Topic, channel: Channel): boolean => channel === "email" && requiredTopics.includes(topic);

/** Whether a topic is on for a user who never chose. */
export const defaultEnabled = (topic: Topic, channel: Channel): boolean => channel === "email" && topic !== "marketing";

/** Strictly transactional mail carries no List-Unsubscribe. */
export const isTransactional = (topic: Topic): boolean => requiredTopics.includes(topic);
