// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// Client-side reads of the private pages through TanStack Query with @connectrpc/connect-query, on the
// pages' own transport (tokens, guest cart token, Connect GET for NO_SIDE_EFFECTS methods). Only the
// chunks loaded on demand use it, so the first page's JavaScript does not carry it.
import type { ReactNode } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { TransportProvider } from "@connectrpc/connect-query";
import { api } from "./api.ts";

/** One cache per page load; cleared at sign-out, so one shopper's answers never show to the next. */
export const queryClient = new QueryClient({
  // Refusals are answers (shown as messages), not blips to retry; focus does not refetch a shop page.
  defaultOptions: { queries: { retry: false, staleTime: 30_000, refetchOnWindowFocus: false } },
});

export function WithQueries({ children }: { children: ReactNode }) {
  return (
    <TransportProvider transport={api().transport}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </TransportProvider>
  );
}
