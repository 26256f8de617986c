// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// Public pages: server-rendered from one loader each (one round trip to the mesh per data need).
import { Code, ConnectError } from "@connectrpc/connect";
import { Form, Link, useLoaderData, type LoaderFunctionArgs } from "react-router";
import { ProductSort } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { api } from "../api.ts";
import type { PageHead, RouteHandle } from "../head.ts";
import { strings } from "../strings.ts";
import { categoryView, productView, shopCurrency, type CategoryView, type ProductView } from "../views.ts";
import { ProductGrid } from "./product-card.tsx";

const pageSize = 12;

/** A refusal of the API as the router's 404 (an error page), anything else as it is. */
function notFoundAs404(error: unknown): never {
  if (error instanceof ConnectError && (error.code === Code.NotFound || error.code === Code.InvalidArgument)) throw new Response("Not found", { status: 404 });
  throw error;
}

interface HomeData {
  categories: CategoryView[];
  products: ProductView[];
}

export async function homeLoader(): Promise<HomeData> {
  const client = api();
  const [categories, products] = await Promise.all([client.catalog.listCategories({}), client.catalog.listProducts({ pageSize })]);
  return { categories: categories.categories.map(categoryView), products: products.products.map(productView) };
}

export const homeHandle: RouteHandle<HomeData> = {
  head: () => ({ title: `${strings.shopName} — ${strings.tagline}`, description: strings.tagline, canonicalPath: "/" }),
};

export function HomePage() {
  const { categories, products } = useLoaderData<HomeData>();
  return (
    <>
      <h1>{strings.tagline}</h1>
      <section aria-labelledby="categories">
        <h2 id="categories">{strings.categories}</h2>
        <ul className="chips">
          {categories.map((c) => (
            <li key={c.id}><Link to={`/c/${c.id}`}>{c.name}</Link></li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="featured">
        <h2 id="featured">{strings.featured}</h2>
        <ProductGrid products={products} />
      </section>
    </>
  );
}

interface CategoryData {
  category: CategoryView;
  products: ProductView[];
  nextPageToken: string;
  firstPage: boolean;
  filters: CategoryFilters;
}

/** What a category page can be narrowed and ordered by: what the catalog's ListProducts takes. */
interface CategoryFilters {
  sort: string;
  inStock: boolean;
  /** Whole units of the shop's currency, as typed ("" for no bound). */
  minPrice: string;
  maxPrice: string;
}

const sorts: { value: string; sort: ProductSort; label: string }[] = [
  { value: "", sort: ProductSort.UNSPECIFIED, label: strings.sort.popular },
  { value: "price-asc", sort: ProductSort.PRICE_ASC, label: strings.sort.priceAsc },
  { value: "price-desc", sort: ProductSort.PRICE_DESC, label: strings.sort.priceDesc },
  { value: "newest", sort: ProductSort.NEWEST, label: strings.sort.newest },
  { value: "rating", sort: ProductSort.RATING, label: strings.sort.rating },
];

function categoryFilters(params: URLSearchParams): CategoryFilters {
  const price = (name: string) => {
    const value = params.get(name)?.trim() ?? "";
    return /^\d{1,9}$/.test(value) ? value : "";
  };
  const sort = params.get("sort") ?? "";
  return { sort: sorts.some((s) => s.value === sort) ? sort : "", inStock: params.get("stock") === "1", minPrice: price("min"), maxPrice: price("max") };
}

/** The filters as query parameters (the next page's link keeps them: a page token belongs to its query). */
function filterParams(filters: CategoryFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.sort) params.set("sort", filters.sort);
  if (filters.inStock) params.set("stock", "1");
  if (filters.minPrice) params.set("min", filters.minPrice);
  if (filters.maxPrice) params.set("max", filters.maxPrice);
  return params;
}

export async function categoryLoader({ params, request }: LoaderFunctionArgs): Promise<CategoryData> {
  const client = api();
  const search = new URL(request.url).searchParams;
  const pageToken = search.get("page") ?? "";
  const filters = categoryFilters(search);
  const [category, page] = await Promise.all([
    client.catalog.getCategory({ id: params.categoryId ?? "" }).catch(notFoundAs404),
    client.catalog
      .listProducts({
        filter: {
          categoryId: params.categoryId ?? "",
          currencyCode: shopCurrency,
          inStockOnly: filters.inStock,
          minPriceMinor: filters.minPrice ? BigInt(filters.minPrice) * 100n : 0n,
          maxPriceMinor: filters.maxPrice ? BigInt(filters.maxPrice) * 100n + 99n : 0n,
        },
        sort: sorts.find((s) => s.value === filters.sort)!.sort,
        pageSize,
        pageToken,
      })
      .catch(notFoundAs404),
  ]);
  if (!category.category) throw new Response("Not found", { status: 404 });
  return { category: categoryView(category.category), products: page.products.map(productView), nextPageToken: page.nextPageToken, firstPage: pageToken === "", filters };
}

export const categoryHandle: RouteHandle<CategoryData> = {
  head: (d) => ({ title: `${d.category.name} — ${strings.shopName}`, description: `${d.category.name} at ${strings.shopName}`, canonicalPath: `/c/${d.category.id}` }),
};

export function CategoryPage() {
  const { category, products, nextPageToken, firstPage, filters } = useLoaderData<CategoryData>();
  const base = filterParams(filters);
  const withPage = (token: string) => {
    const params = new URLSearchParams(base);
    if (token) params.set("page", token);
    const query = params.toString();
    return `/c/${category.id}${query ? `?${query}` : ""}`;
  };
  return (
    <>
      <nav aria-label="Breadcrumb" className="crumbs"><Link to="/">{strings.nav.home}</Link> › {category.name}</nav>
      <h1>{category.name}</h1>
      <Form method="get" className="filters" aria-label={strings.filters.title}>
        <p>
          <label htmlFor="sort">{strings.sort.label}</label>
          <select id="sort" name="sort" defaultValue={filters.sort}>
            {sorts.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
          </select>
        </p>
        <p>
          <label htmlFor="min">{strings.filters.minPrice}</label>
          <input id="min" name="min" inputMode="numeric" pattern="[0-9]*" size={6} defaultValue={filters.minPrice} />
        </p>
        <p>
          <label htmlFor="max">{strings.filters.maxPrice}</label>
          <input id="max" name="max" inputMode="numeric" pattern="[0-9]*" size={6} defaultValue={filters.maxPrice} />
        </p>
        <p className="check">
          <input id="stock" name="stock" type="checkbox" value="1" defaultChecked={filters.inStock} />
          <label htmlFor="stock">{strings.filters.inStockOnly}</label>
        </p>
        <button type="submit">{strings.filters.apply}</button>
      </Form>
      {products.length === 0 ? <p>{strings.noProducts}</p> : <ProductGrid products={products} />}
      <nav aria-label="Pages" className="pager">
        {!firstPage && <Link to={withPage("")}>{strings.firstPage}</Link>}
        {nextPageToken && <Link to={withPage(nextPageToken)}>{strings.nextPage}</Link>}
      </nav>
    </>
  );
}

interface SearchData {
  query: string;
  brand: string;
  products: ProductView[];
  brands: { value: string; label: string; count: string }[];
}

export async function searchLoader({ request }: LoaderFunctionArgs): Promise<SearchData> {
  const params = new URL(request.url).searchParams;
  const query = (params.get("q") ?? "").trim();
  const brand = params.get("brand") ?? "";
  if (!query) return { query, brand, products: [], brands: [] };
  const found = await api().catalog.searchProducts({ query, pageSize: 24, filter: brand ? { brands: [brand] } : {} });
  return {
    query,
    brand,
    products: found.products.map(productView),
    brands: (found.facets?.brands ?? []).map((b) => ({ value: b.value, label: b.label || b.value, count: b.count.toString() })),
  };
}

export const searchHandle: RouteHandle<SearchData> = {
  head: (d) => ({ title: d.query ? `${strings.resultsFor(d.query)} — ${strings.shopName}` : `${strings.nav.search} — ${strings.shopName}`, description: strings.tagline, canonicalPath: "/search" }),
};

export function SearchPage() {
  const { query, brand, products, brands } = useLoaderData<SearchData>();
  return (
    <>
      <h1>{query ? strings.resultsFor(query) : strings.nav.search}</h1>
      {brands.length > 0 && (
        <nav aria-label={strings.brands} className="facets">
          <h2>{strings.brands}</h2>
          <ul>
            {brands.map((b) => (
              <li key={b.value}>
                <Link to={`/search?q=${encodeURIComponent(query)}&brand=${encodeURIComponent(b.value)}`} aria-current={b.value === brand ? "true" : undefined}>
                  {b.label} ({b.count})
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {query && products.length === 0 ? <p>{strings.noResults(query)}</p> : <ProductGrid products={products} />}
    </>
  );
}

export function productHead(product: ProductView, category: CategoryView | undefined): PageHead {
  const offers = product.variants
    .filter((v) => v.price)
    .map((v) => ({
      "@type": "Offer",
      sku: v.sku,
      price: (Number(v.price!.amountMinor) / 100).toFixed(2),
      priceCurrency: v.price!.currencyCode,
      availability: v.inStock ? "https://schema.org/InStock" : "https://schema.org/OutOfStock",
    }));
  const breadcrumb = [{ name: strings.nav.home, path: "/" }, ...(category ? [{ name: category.name, path: `/c/${category.id}` }] : []), { name: product.name, path: `/p/${product.slug}` }];
  return {
    title: `${product.name} — ${strings.shopName}`,
    description: product.description.slice(0, 160) || product.name,
    canonicalPath: `/p/${product.slug}`,
    ogType: "product",
    ...(product.imageUrls[0] ? { image: product.imageUrls[0] } : {}),
    jsonLd: [
      {
        "@context": "https://schema.org",
        "@type": "Product",
        name: product.name,
        description: product.description,
        sku: product.variants[0]?.sku,
        ...(product.brand ? { brand: { "@type": "Brand", name: product.brand } } : {}),
        ...(product.imageUrls.length ? { image: product.imageUrls } : {}),
        ...(product.rating ? { aggregateRating: { "@type": "AggregateRating", ratingValue: product.rating.average, reviewCount: product.rating.count } } : {}),
        offers,
      },
      {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        itemListElement: breadcrumb.map((b, i) => ({ "@type": "ListItem", position: i + 1, name: b.name, item: b.path })),
      },
    ],
  };
}
