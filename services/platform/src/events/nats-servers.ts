// NATS_URL may carry a user's credentials (nats://cart:secret@nats:4222, as the prod overlay's per-service
// NATS users need). nats.js ignores a server URL's user info, so they are taken out here and given to
// it as user and pass; the servers are listed without them (nor are they logged with them).

export interface NatsServers {
  servers: string[];
  user?: string;
  pass?: string;
}

/** The servers of a comma-separated NATS_URL and the credentials they carry (the same on every URL, or none). */
export function natsServers(natsUrl: string): NatsServers {
  const servers: string[] = [];
  let credentials: { user: string; pass: string } | undefined;
  let bare = false;
  for (const raw of natsUrl.split(",").map((s) => s.trim()).filter(Boolean)) {
    const url = new URL(raw);
    if (url.username) {
      const found = { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) };
      if (credentials && (credentials.user !== found.user || credentials.pass !== found.pass)) {
        throw new TypeError("NATS_URL: every server URL must carry the same user and password (or none)");
      }
      credentials = found;
    } else {
      bare = true;
    }
    url.username = "";
    url.password = "";
    servers.push(url.toString().replace(/\/$/, ""));
  }
  if (servers.length === 0) throw new TypeError("NATS_URL names no server");
  if (credentials && bare) throw new TypeError("NATS_URL: every server URL must carry the same user and password (or none)");
  return credentials ? { servers, ...credentials } : { servers };
}
