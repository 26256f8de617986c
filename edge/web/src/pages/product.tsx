// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
import { Code, ConnectError } from "@connectrpc/connect";
import { useState } from "react";
import { Link, useLoaderData, type LoaderFunctionArgs } from "react-router";
import { api, ensureCartId } from "../api.ts";
import type { RouteHandle } from "../head.ts";
import { formatMoney, strings } from "../strings.ts";
import { categoryView, productView, reviewView, shopCurrency, type CategoryView, type ProductView, type ReviewsView } from "../views.ts";
import { productHead } from "./catalog.tsx";
import { refusalMessage } from "./refusals.ts";
import { Reviews, reviewsPageSize, type RatingView } from "./reviews.tsx";

interface ProductData {
  product: ProductView;
  category: CategoryView | undefined;
  /** The newest reviews; undefined when they could not be read (the page shows the product anyway). */
  reviews: ReviewsView | undefined;
}

export async function productLoader({ params }: LoaderFunctionArgs): Promise<ProductData> {
  const client = api();
  const found = await client.catalog.getProduct({ slug: params.slug ?? "" }).catch((error: unknown) => {
    if (error instanceof ConnectError && (error.code === Code.NotFound || error.code === Code.InvalidArgument)) throw new Response("Not found", { status: 404 });
    throw error;
  });
  if (!found.product) throw new Response("Not found", { status: 404 });
  const product = productView(found.product);
  // The category (for the breadcrumb) and the newest reviews: two reads at once.
  const [category, reviews] = await Promise.all([
    product.categoryId ? client.catalog.getCategory({ id: product.categoryId }).then((c) => (c.category ? categoryView(c.category) : undefined), () => undefined) : undefined,
    client.catalog.listReviews({ productId: product.id, pageSize: reviewsPageSize }).then((r): ReviewsView => ({ items: r.reviews.map(reviewView), nextPageToken: r.nextPageToken }), () => undefined),
  ]);
  return { product, category, reviews };
}

export const productHandle: RouteHandle<ProductData> = { head: (d) => productHead(d.product, d.category) };

export function ProductPage() {
  const data = useLoaderData<ProductData>();
  // Keyed by product: moving to another product starts its page afresh (variant, rating, reviews).
  return <ProductDetails key={data.product.id} {...data} />;
}

function ProductDetails({ product, category, reviews }: ProductData) {
  const [rating, setRating] = useState<RatingView | undefined>(product.rating);
  const [sku, setSku] = useState(product.variants.find((v) => v.inStock)?.sku ?? product.variants[0]?.sku ?? "");
  const [quantity, setQuantity] = useState(1);
  const [state, setState] = useState<{ kind: "idle" | "adding" | "added" } | { kind: "error"; message: string }>({ kind: "idle" });
  const variant = product.variants.find((v) => v.sku === sku);

  async function add() {
    setState({ kind: "adding" });
    try {
      const cartId = await ensureCartId(shopCurrency);
      await api().cart.addCartItem({ cartId, sku, quantity });
      setState({ kind: "added" });
    } catch (error) {
      setState({ kind: "error", message: refusalMessage(error) });
    }
  }

  return (
    <article className="product">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/">{strings.nav.home}</Link>
        {category && <> › <Link to={`/c/${category.id}`}>{category.name}</Link></>} › {product.name}
      </nav>
      <div className="product-body">
        {product.imageUrls[0] ? <img src={product.imageUrls[0]} alt={product.name} width={480} height={480} /> : <div className="placeholder large" aria-hidden="true" />}
        <div>
          <h1>{product.name}</h1>
          {product.brand && <p className="brand-name">{product.brand}</p>}
          <p className="price" data-testid="price">{formatMoney(variant?.price ?? product.priceFrom)}</p>
          <p>{variant?.inStock ? strings.inStock : strings.outOfStock}</p>
          {rating && <p><a href="#reviews-title">{strings.reviews.summary(rating.average, rating.count)}</a></p>}
          <p>{product.description}</p>
          {product.variants.length > 1 && (
            <fieldset>
              <legend>{strings.variant}</legend>
              {product.variants.map((v) => (
                <label key={v.sku} className="variant">
                  <input type="radio" name="variant" value={v.sku} checked={v.sku === sku} onChange={() => setSku(v.sku)} />
                  {v.label} — {formatMoney(v.price)}
                  {!v.inStock && ` (${strings.outOfStock})`}
                </label>
              ))}
            </fieldset>
          )}
          <label htmlFor="quantity">{strings.quantity}</label>
          <input id="quantity" type="number" min={1} max={99} value={quantity} onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))} />
          <button type="button" onClick={add} disabled={state.kind === "adding" || !sku}>
            {state.kind === "adding" ? strings.adding : strings.addToCart}
          </button>
          <div role="status" aria-live="polite">
            {state.kind === "added" && <p>{strings.added} <Link to="/cart">{strings.viewCart}</Link></p>}
            {state.kind === "error" && <p className="error">{state.message}</p>}
          </div>
        </div>
      </div>
      <Reviews productId={product.id} slug={product.slug} rating={rating} onRated={setRating} initial={reviews} />
    </article>
  );
}
