// The console's pages, under /admin.
import type { RouteObject } from "react-router";
import { CategoriesPage } from "./categories.tsx";
import { CustomersPage } from "./customers.tsx";
import { DashboardPage } from "./dashboard.tsx";
import { ImportPage } from "./import.tsx";
import { ConsoleLayout, NotFound, Requires } from "./layout.tsx";
import { NotificationsPage } from "./notifications.tsx";
import { OrderPage, OrdersPage } from "./orders.tsx";
import { ProductEditPage, ProductsPage } from "./products.tsx";
import { PromotionPage, PromotionsPage } from "./promotions.tsx";
import { ReturnsPage } from "./returns.tsx";
import { StockPage } from "./stock.tsx";

export const consoleRoutes: RouteObject[] = [
  {
    element: <ConsoleLayout />,
    children: [
      { index: true, element: <DashboardPage />, handle: { title: "Dashboard" } },
      { path: "products", element: <Requires service="catalog"><ProductsPage /></Requires>, handle: { title: "Products" } },
      { path: "products/import", element: <Requires service="catalog"><ImportPage /></Requires>, handle: { title: "Import products" } },
      { path: "products/new", element: <Requires service="catalog"><ProductEditPage /></Requires>, handle: { title: "New product" } },
      { path: "products/:productId", element: <Requires service="catalog"><ProductEditPage /></Requires>, handle: { title: "Edit product" } },
      { path: "categories", element: <Requires service="catalog"><CategoriesPage /></Requires>, handle: { title: "Categories" } },
      { path: "stock", element: <Requires service="inventory"><StockPage /></Requires>, handle: { title: "Stock" } },
      { path: "orders", element: <Requires service="orders"><OrdersPage /></Requires>, handle: { title: "Orders" } },
      { path: "orders/:orderId", element: <Requires service="orders"><OrderPage /></Requires>, handle: { title: "Order" } },
      { path: "returns", element: <Requires service="returns"><ReturnsPage /></Requires>, handle: { title: "Returns" } },
      { path: "promotions", element: <Requires service="promotions"><PromotionsPage /></Requires>, handle: { title: "Promotions" } },
      { path: "promotions/:promotionId", element: <Requires service="promotions"><PromotionPage /></Requires>, handle: { title: "Promotion" } },
      { path: "notifications", element: <Requires service="notifications"><NotificationsPage /></Requires>, handle: { title: "Notifications" } },
      { path: "customers", element: <CustomersPage />, handle: { title: "Customers" } },
      { path: "*", element: <NotFound />, handle: { title: "Not found" } },
    ],
  },
];
