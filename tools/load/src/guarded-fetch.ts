// The only way the load generator reaches the network: a fetch that goes to the given base URL and
// nowhere else. Redirects are not followed (a 3xx is an error naming where it pointed), so a shop
// that answers "go to that other host" never turns the load onto someone else's server.
export class RefusedTarget extends Error {}

export function createGuardedFetch(baseUrl: URL, inner: typeof globalThis.fetch = globalThis.fetch): typeof globalThis.fetch {
  const allowed = `${baseUrl.origin}${baseUrl.pathname.replace(/\/+$/, "")}/`;
  return async (input, init) => {
    const target = new URL(input instanceof Request ? input.url : input.toString());
    if (!`${target.origin}${target.pathname}`.startsWith(allowed)) throw new RefusedTarget(`refused: ${target.href} is outside ${allowed}`);
    const response = await inner(input, { ...init, redirect: "manual" });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get("location") ?? "(no location)";
      throw new RefusedTarget(`refused: ${target.href} answered ${response.status} to ${location}; load goes only to ${allowed}`);
    }
    return response;
  };
}
