// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// The shop's routes, shared by the server (static handler, SSR) and the browser (hydration).
import type { RouteObject } from "react-router";
import type { RouteHandle } from "./head.ts";
import { CategoryPage, HomePage, SearchPage, categoryHandle, categoryLoader, homeHandle, homeLoader, searchHandle, searchLoader } from "./pages/catalog.tsx";
import { ErrorPage, Layout } from "./pages/layout.tsx";
import { ProductPage, productHandle, productLoader } from "./pages/product.tsx";
import { strings } from "./strings.ts";

/** The head of a private page (the server renders its loading state; not in the sitemap). */
const privateHandle = (title: string, canonicalPath: string): RouteHandle => ({ head: () => ({ title: `${title} — ${strings.shopName}`, description: title, canonicalPath }) });
// Private pages are chunks of their own, loaded when first matched (the first page carries none).
const auth = () => import("./pages/auth.tsx");
const account = () => import("./pages/account.tsx");
const cart = () => import("./pages/cart.tsx");
const checkout = () => import("./pages/checkout.tsx");
const settings = () => import("./pages/settings.tsx");
const mfa = () => import("./pages/mfa.tsx");
const unsubscribe = () => import("./pages/unsubscribe.tsx");

export const routes: RouteObject[] = [
  {
    id: "root",
    element: <Layout />,
    errorElement: <ErrorPage />,
    children: [
      {
        errorElement: <ErrorPage />,
        children: [
          { id: "home", index: true, loader: homeLoader, element: <HomePage />, handle: homeHandle },
          { id: "category", path: "c/:categoryId", loader: categoryLoader, element: <CategoryPage />, handle: categoryHandle },
          { id: "search", path: "search", loader: searchLoader, element: <SearchPage />, handle: searchHandle },
          { id: "product", path: "p/:slug", loader: productLoader, element: <ProductPage />, handle: productHandle },
          { id: "cart", path: "cart", lazy: () => cart().then((m) => ({ Component: m.CartPage })), handle: privateHandle(strings.cartTitle, "/cart") },
          { id: "checkout", path: "checkout", lazy: () => checkout().then((m) => ({ Component: m.CheckoutPage })), handle: privateHandle(strings.checkoutTitle, "/checkout") },
          { id: "confirmation", path: "order/:orderId", lazy: () => checkout().then((m) => ({ Component: m.ConfirmationPage })), handle: privateHandle(strings.confirmationTitle, "/") },
          { id: "sign-in", path: "sign-in", lazy: () => auth().then((m) => ({ Component: m.SignInPage })), handle: privateHandle(strings.account.signInTitle, "/sign-in") },
          { id: "register", path: "register", lazy: () => auth().then((m) => ({ Component: m.RegisterPage })), handle: privateHandle(strings.account.registerTitle, "/register") },
          { id: "verify-email", path: "verify-email", lazy: () => auth().then((m) => ({ Component: m.VerifyEmailPage })), handle: privateHandle(strings.account.verifyTitle, "/verify-email") },
          { id: "forgot-password", path: "forgot-password", lazy: () => auth().then((m) => ({ Component: m.ForgotPasswordPage })), handle: privateHandle(strings.account.forgotTitle, "/forgot-password") },
          { id: "reset-password", path: "reset-password", lazy: () => auth().then((m) => ({ Component: m.ResetPasswordPage })), handle: privateHandle(strings.account.resetTitle, "/reset-password") },
          { id: "account", path: "account", lazy: () => account().then((m) => ({ Component: m.AccountPage })), handle: privateHandle(strings.account.title, "/account") },
          { id: "account-profile", path: "account/profile", lazy: () => settings().then((m) => ({ Component: m.ProfilePage })), handle: privateHandle(strings.settings.profile, "/account/profile") },
          { id: "account-addresses", path: "account/addresses", lazy: () => settings().then((m) => ({ Component: m.AddressesPage })), handle: privateHandle(strings.settings.addressTitle, "/account/addresses") },
          { id: "account-sessions", path: "account/sessions", lazy: () => settings().then((m) => ({ Component: m.SessionsPage })), handle: privateHandle(strings.settings.sessionsTitle, "/account/sessions") },
          { id: "account-password", path: "account/password", lazy: () => settings().then((m) => ({ Component: m.PasswordPage })), handle: privateHandle(strings.settings.passwordTitle, "/account/password") },
          { id: "account-mfa", path: "account/mfa", lazy: () => mfa().then((m) => ({ Component: m.MfaPage })), handle: privateHandle(strings.settings.mfaTitle, "/account/mfa") },
          { id: "account-delete", path: "account/delete", lazy: () => settings().then((m) => ({ Component: m.DeleteAccountPage })), handle: privateHandle(strings.settings.deleteTitle, "/account/delete") },
          { id: "account-deleted", path: "account/deleted", lazy: () => settings().then((m) => ({ Component: m.AccountDeletedPage })), handle: privateHandle(strings.settings.deleteTitle, "/") },
          { id: "unsubscribe", path: "unsubscribe", lazy: () => unsubscribe().then((m) => ({ Component: m.UnsubscribePage })), handle: privateHandle(strings.unsubscribe.title, "/unsubscribe") },
          { id: "order", path: "orders/:orderId", lazy: () => account().then((m) => ({ Component: m.OrderPage })), handle: privateHandle(strings.account.orders, "/account") },
          { id: "not-found", path: "*", loader: () => { throw new Response("Not found", { status: 404 }); }, element: null },
        ],
      },
    ],
  },
];
