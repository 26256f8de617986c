// The CatalogService RPCs: authorisation and transactions around the domain functions.
import { ADMIN_ROLE, checkUuid, currentPrincipal, isServiceOrRole, requireRole, requireUser, violations, type Database, type ServiceRuntime } from "@bazaar/platform";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { createCategory, deleteCategory, findCategory, listCategories, toCategory, updateCategory } from "./categories.ts";
import { batchGetVariants } from "./products/batch-get-variants.ts";
import { browse } from "./products/browse.ts";
import { importProducts } from "./products/import.ts";
import { archiveProduct, createProduct, getProduct, loadProducts, updateProduct } from "./products/products.ts";
import { createReview, listReviews } from "./reviews/reviews.ts";

const isAdmin = () => currentPrincipal()?.roles.includes(ADMIN_ROLE) ?? false;

export function catalogHandlers(runtime: ServiceRuntime<Database>): ServiceImpl<typeof CatalogService> {
  const { database } = runtime;
  const read = () => database.em();
  const loadOne = async (id: string) => (await loadProducts(read(), [id]))[0];
  return {
    async getProduct(request) {
      return { product: await getProduct(read(), request, isAdmin()) };
    },
    async listProducts(request) {
      return browse(read(), { filter: request.filter, sort: request.sort, pageSize: request.pageSize, pageToken: request.pageToken }, false);
    },
    async searchProducts(request) {
      return browse(read(), { query: request.query, filter: request.filter, sort: request.sort, pageSize: request.pageSize, pageToken: request.pageToken }, true);
    },
    async batchGetVariants(request) {
      return { variants: await batchGetVariants(read(), request.skus, isServiceOrRole(currentPrincipal(), ADMIN_ROLE)) };
    },
    async createProduct(request) {
      requireRole(ADMIN_ROLE);
      const id = await database.transaction((em) => createProduct(em, request.product));
      return { product: await loadOne(id) };
    },
    async updateProduct(request) {
      requireRole(ADMIN_ROLE);
      const id = await database.transaction((em) => updateProduct(em, request.product, request.updateMask?.paths ?? []));
      return { product: await loadOne(id) };
    },
    async archiveProduct(request) {
      requireRole(ADMIN_ROLE);
      await database.transaction((em) => archiveProduct(em, request.id, request.etag));
      return { product: await loadOne(request.id) };
    },
    async importProducts(request) {
      requireRole(ADMIN_ROLE);
      const report = await database.transaction((em) => importProducts(em, request.format, request.content, request.validateOnly));
      return { created: report.created, updated: report.updated, rejected: report.rejected };
    },
    async getCategory(request) {
      const v = violations();
      checkUuid(v, "id", request.id);
      v.throwIfAny();
      return { category: toCategory(await findCategory(read(), request.id)) };
    },
    async listCategories(request) {
      return { categories: await listCategories(read(), request.parentId, request.recursive) };
    },
    async createCategory(request) {
      requireRole(ADMIN_ROLE);
      const c = request.category;
      return { category: await database.transaction((em) => createCategory(em, { parentId: c?.parentId ?? "", slug: c?.slug ?? "", name: c?.name ?? "" })) };
    },
    async updateCategory(request) {
      requireRole(ADMIN_ROLE);
      const c = request.category;
      const patch = { id: c?.id ?? "", etag: c?.etag ?? "", parentId: c?.parentId ?? "", slug: c?.slug ?? "", name: c?.name ?? "" };
      return { category: await database.transaction((em) => updateCategory(em, patch, request.updateMask?.paths ?? [])) };
    },
    async deleteCategory(request) {
      requireRole(ADMIN_ROLE);
      await database.transaction((em) => deleteCategory(em, request.id));
      return {};
    },
    async createReview(request) {
      const user = requireUser();
      const { review, rating } = await database.transaction((em) => createReview(em, user.subject, request));
      return { review, productRating: rating };
    },
    async listReviews(request) {
      return listReviews(read(), request.productId, request.pageSize, request.pageToken);
    },
  };
}
