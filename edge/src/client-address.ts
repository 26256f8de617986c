// The client's address for rate limits and for the services behind the edge. Forwarded headers are
// trusted only when the hop that sent them is a configured proxy: a client talking to the edge directly
// (or through an L4 load balancer, which keeps the socket address) cannot choose its own address.
import { BlockList, isIPv4, isIPv6 } from "node:net";

export type ClientAddressOf = (socketAddress: string | undefined, forwardedFor: string | undefined) => string;

/** Parses "10.0.0.0/8, fd00::/8, 192.168.1.10" into a BlockList; throws on a malformed entry. */
export function trustedProxyList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of cidrs) {
    const [address = "", prefixText] = entry.split("/");
    const type = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : undefined;
    if (!type) throw new TypeError(`trusted proxy ${JSON.stringify(entry)} is not an IP address or CIDR`);
    const prefix = prefixText === undefined ? (type === "ipv4" ? 32 : 128) : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === "ipv4" ? 32 : 128)) throw new TypeError(`trusted proxy ${JSON.stringify(entry)} has a bad prefix length`);
    list.addSubnet(address, prefix, type);
  }
  return list;
}

/** "::ffff:10.1.2.3" (IPv4 on a dual-stack socket) → "10.1.2.3". */
function plain(address: string): string {
  return address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function isTrusted(list: BlockList, address: string): boolean {
  const type = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : undefined;
  return type !== undefined && list.check(address, type);
}

/**
 * Walks from the socket's address leftwards through `x-forwarded-for` while each hop is a trusted
 * proxy, and answers the first untrusted one (the right-most untrusted hop). With no trusted proxies
 * (the default) the socket's address is the client's, whatever the headers say.
 */
export function createClientAddress(trustedProxies: readonly string[] = []): ClientAddressOf {
  const list = trustedProxyList(trustedProxies);
  return (socketAddress, forwardedFor) => {
    let address = plain(socketAddress ?? "unknown");
    if (trustedProxies.length === 0 || !forwardedFor) return address;
    const hops = forwardedFor.split(",").map((hop) => plain(hop.trim())).filter(Boolean);
    while (isTrusted(list, address) && hops.length > 0) address = hops.pop()!;
    return address;
  };
}
