// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// The browser: hydrates the server's HTML with the loader data it was rendered from.
import { StrictMode } from "react";
import { createRoot, hydrateRoot } from "react-dom/client";
import { createBrowserRouter, matchRoutes } from "react-router";
import { RouterProvider } from "react-router/dom";
import { routes } from "./routes.tsx";
import "./styles.css";

const hydrationData = (window as { __staticRouterHydrationData?: never }).__staticRouterHydrationData;
// The server rendered lazy (code-split) routes resolved: resolve the matched ones before hydrating,
// so the first render is the server's.
async function start() {
  for (const match of matchRoutes(routes, window.location) ?? []) {
    const lazy = match.route.lazy;
    if (typeof lazy === "function") Object.assign(match.route, { ...(await lazy()), lazy: undefined });
  }
  const router = createBrowserRouter(routes, { hydrationData });
  const app = (
    <StrictMode>
      <RouterProvider router={router} />
    </StrictMode>
  );
  const root = document.getElementById("root")!;
  // The edge's HTML is hydrated; Vite's dev page (index.html) has none and renders here.
  if (hydrationData) hydrateRoot(root, app);
  else createRoot(root).render(app);
}
void start();
