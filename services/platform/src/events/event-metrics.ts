import { Counter, Gauge, Histogram, type Registry } from "prom-client";

// Prometheus metrics of the outbox relay and the consumers. Created once per registry: several
// relays or consumers of one service instance share them (consumers are told apart by label).

const lagBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function outboxMetrics(registry: Registry) {
  return {
    backlog: getOrCreate(registry, "bazaar_outbox_backlog", (name) => new Gauge({ name, help: "Events committed to the outbox and not yet acknowledged by JetStream", registers: [registry] })),
    oldestAge: getOrCreate(
      registry,
      "bazaar_outbox_oldest_unsent_age_seconds",
      (name) => new Gauge({ name, help: "Age of the oldest unpublished outbox event (0 when none)", registers: [registry] }),
    ),
    published: getOrCreate(registry, "bazaar_outbox_published_total", (name) => new Counter({ name, help: "Outbox events acknowledged by JetStream", registers: [registry] })),
    publishErrors: getOrCreate(
      registry,
      "bazaar_outbox_publish_errors_total",
      (name) => new Counter({ name, help: "Outbox publish attempts that failed and will be retried", registers: [registry] }),
    ),
    publishLag: getOrCreate(
      registry,
      "bazaar_outbox_publish_lag_seconds",
      (name) => new Histogram({ name, help: "From outbox insert to JetStream PubAck", buckets: lagBuckets, registers: [registry] }),
    ),
  };
}

/** 1 while this instance's NATS connection is up, 0 while the client reconnects (events wait in the outbox). */
export function natsConnectedGauge(registry: Registry): Gauge {
  return getOrCreate(
    registry,
    "bazaar_events_nats_connected",
    (name) => new Gauge({ name, help: "1 while connected to NATS, 0 while reconnecting (the outbox buffers, consumers pause)", registers: [registry] }),
  );
}

export function consumerMetrics(registry: Registry) {
  return {
    lag: getOrCreate(
      registry,
      "bazaar_consumer_lag",
      (name) => new Gauge({ name, help: "Messages in the stream not yet delivered to the consumer (num_pending)", labelNames: ["stream", "consumer"], registers: [registry] }),
    ),
    ackPending: getOrCreate(
      registry,
      "bazaar_consumer_ack_pending",
      (name) => new Gauge({ name, help: "Messages delivered and not yet acknowledged", labelNames: ["stream", "consumer"], registers: [registry] }),
    ),
    handled: getOrCreate(
      registry,
      "bazaar_events_handled_total",
      (name) =>
        new Counter({
          name,
          help: "Messages handled, by outcome: applied, duplicate (already in the inbox), retried, dead_lettered, ignored (no handler)",
          labelNames: ["consumer", "type", "outcome"],
          registers: [registry],
        }),
    ),
    handleDuration: getOrCreate(
      registry,
      "bazaar_event_handle_duration_seconds",
      (name) => new Histogram({ name, help: "Handler and inbox transaction time per message", labelNames: ["consumer", "type"], buckets: lagBuckets, registers: [registry] }),
    ),
    deliveryLag: getOrCreate(
      registry,
      "bazaar_event_delivery_lag_seconds",
      (name) => new Histogram({ name, help: "From the message's arrival in the stream to its handling", labelNames: ["consumer"], buckets: lagBuckets, registers: [registry] }),
    ),
  };
}

function getOrCreate<T>(registry: Registry, name: string, make: (name: string) => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make(name);
}
