// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// /unsubscribe?token=… — the link in notification emails (services/notification/src/links.ts). The
// shopper confirms with a button: a GET alone changes nothing, so mail scanners that open links do not
// unsubscribe anyone (mail clients' one-click unsubscribe is the notification service's own RFC 8058
// POST). Unsubscribe needs no sign-in; a forged or expired token is refused in words.
import { createClient } from "@connectrpc/connect";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { NotificationChannel, NotificationService, NotificationTopic } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { api } from "../api.ts";
import { strings } from "../strings.ts";
import { refusalMessage } from "./refusals.ts";

const t = strings.unsubscribe;
const topicNames: Record<number, string> = { [NotificationTopic.SHIPPING]: "shipping updates", [NotificationTopic.MARKETING]: "offers and news", [NotificationTopic.ORDERS]: "order emails", [NotificationTopic.ACCOUNT_SECURITY]: "account emails" };
const channelNames: Record<number, string> = { [NotificationChannel.EMAIL]: "email", [NotificationChannel.SMS]: "text message", [NotificationChannel.PUSH]: "push notification" };

export function UnsubscribePage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [state, setState] = useState<{ kind: "idle" | "working" } | { kind: "done"; message: string } | { kind: "error"; message: string }>({ kind: "idle" });

  async function unsubscribe() {
    setState({ kind: "working" });
    try {
      const answer = await createClient(NotificationService, api().transport).unsubscribe({ token });
      setState({ kind: "done", message: t.done(topicNames[answer.topic] ?? "these messages", channelNames[answer.channel] ?? "email") });
    } catch (error) {
      setState({ kind: "error", message: refusalMessage(error) });
    }
  }

  return (
    <section>
      <h1>{t.title}</h1>
      {!token ? (
        <p className="error" role="alert">{t.missingToken}</p>
      ) : state.kind === "done" ? (
        <p role="status" className="notice">{state.message}</p>
      ) : (
        <>
          <p>{t.intro}</p>
          <button type="button" onClick={() => void unsubscribe()} disabled={state.kind === "working"}>{state.kind === "working" ? t.working : t.button}</button>
          <div role="alert">{state.kind === "error" && <p className="error">{state.message}</p>}</div>
        </>
      )}
      <p><Link to="/">{strings.backHome}</Link></p>
    </section>
  );
}
