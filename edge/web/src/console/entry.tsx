// The staff console's browser entry (its own bundle, served at /admin): rendered in the browser only.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter } from "react-router";
import { RouterProvider } from "react-router/dom";
import { consoleRoutes } from "./routes.tsx";
import "./console.css";

const router = createBrowserRouter(consoleRoutes, { basename: "/admin" });
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
