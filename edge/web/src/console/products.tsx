// Products: a searchable, filterable list with keyset paging, and the editor (create and update with
// the product's etag: a stale one is refused, and the page says so and offers a reload), with
// variants, prices per currency, weight and dimensions, tags, attributes and image URLs; archive,
// confirmed.
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ProductSchema, ProductSort, ProductStatus, type Product } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { ConfirmButton, enumName, formatMoney, FormRow, moneyListText, Pager, parseMoneyList, Refusal, useAction, useLoad, usePages, useStaff } from "./ui.tsx";

const sorts: [ProductSort, string][] = [
  [ProductSort.NEWEST, "Newest first"],
  [ProductSort.RELEVANCE, "Relevance / popularity"],
  [ProductSort.PRICE_ASC, "Price, low to high (USD)"],
  [ProductSort.PRICE_DESC, "Price, high to low (USD)"],
  [ProductSort.RATING, "Rating"],
];

const listedStatuses = [ProductStatus.DRAFT, ProductStatus.ACTIVE, ProductStatus.ARCHIVED];

export function ProductsPage() {
  const staff = useStaff();
  const [query, setQuery] = useState("");
  const [status, setStatus] = useState<ProductStatus | 0>(0);
  const [sort, setSort] = useState<ProductSort>(ProductSort.NEWEST);
  const pages = usePages(`${query}|${status}|${sort}`);
  const statuses = status ? [status] : listedStatuses;
  const { data, error, loading } = useLoad(
    async (): Promise<{ products: Product[]; nextPageToken: string }> =>
      query
        ? staff.catalog.searchProducts({ query, filter: { statuses }, sort, pageSize: 25, pageToken: pages.token })
        : staff.catalog.listProducts({ filter: { statuses }, sort, pageSize: 25, pageToken: pages.token }),
    [query, status, sort, pages.token],
  );
  return (
    <section>
      <div className="title-row">
        <h1>Products</h1>
        <div className="actions">
          <Link className="button" to="/products/import">Import CSV</Link>
          <Link className="button" to="/products/new">New product</Link>
        </div>
      </div>
      <form className="filters" role="search" onSubmit={(event) => { event.preventDefault(); setQuery(String(new FormData(event.currentTarget).get("q") ?? "").trim()); }}>
        <p className="field">
          <label htmlFor="product-q">Search</label>
          <input id="product-q" name="q" type="search" defaultValue={query} />
        </p>
        <p className="field">
          <label htmlFor="product-status">Status</label>
          <select id="product-status" value={status} onChange={(event) => setStatus(Number(event.target.value) as ProductStatus)}>
            <option value={0}>Any</option>
            {listedStatuses.map((s) => <option key={s} value={s}>{enumName(ProductStatus, s)}</option>)}
          </select>
        </p>
        <p className="field">
          <label htmlFor="product-sort">Order</label>
          <select id="product-sort" value={sort} onChange={(event) => setSort(Number(event.target.value) as ProductSort)}>
            {sorts.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
        </p>
        <button type="submit">Search</button>
      </form>
      <Refusal error={error} />
      <table className="data" aria-busy={loading}>
        <caption className="visually-hidden">Products</caption>
        <thead>
          <tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Variants</th><th scope="col">From</th><th scope="col">In stock</th></tr>
        </thead>
        <tbody>
          {data?.products.map((product) => (
            <tr key={product.id}>
              <td><Link to={`/products/${product.id}`}>{product.name}</Link></td>
              <td>{enumName(ProductStatus, product.status)}</td>
              <td>{product.variants.length}</td>
              <td>{product.priceFrom.map(formatMoney).join(", ")}</td>
              <td>{product.inStock ? "yes" : "no"}</td>
            </tr>
          ))}
          {data && data.products.length === 0 && <tr><td colSpan={5}>No products.</td></tr>}
        </tbody>
      </table>
      <Pager pages={pages} nextToken={data?.nextPageToken} />
    </section>
  );
}

interface VariantDraft {
  key: number;
  sku: string;
  options: string;
  prices: string;
  weightGrams: string;
  /** "300 x 200 x 150" (length × width × height, mm); empty for none. */
  dimensions: string;
}

const pairsText = (map: Record<string, string>) => Object.entries(map).map(([k, v]) => `${k}=${v}`).join(", ");

/** "a=b, c=d" → {a: "b", c: "d"}; throws naming the field for a pair without "=". */
function parsePairs(text: string, field: string, separator: RegExp): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of text.split(separator).map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`${field}: "${pair}" is not name=value`);
    result[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return result;
}

/** "300 x 200 x 150" → the three sides in mm; undefined for empty; throws naming the field. */
function parseDimensions(text: string, field: string) {
  if (!text.trim()) return undefined;
  const match = /^\s*(\d+)\s*[x×]\s*(\d+)\s*[x×]\s*(\d+)\s*$/i.exec(text);
  if (!match) throw new Error(`${field}: "${text}" is not length × width × height in mm, like "300 x 200 x 150"`);
  return { lengthMm: Number(match[1]), widthMm: Number(match[2]), heightMm: Number(match[3]) };
}

const variantDraft = (key: number, variant?: Product["variants"][number]): VariantDraft => ({
  key,
  sku: variant?.sku ?? "",
  options: variant ? pairsText(variant.options) : "",
  prices: variant ? moneyListText(variant.prices) : "",
  weightGrams: variant && variant.weightGrams > 0n ? variant.weightGrams.toString() : "",
  dimensions: variant?.dimensions ? `${variant.dimensions.lengthMm} x ${variant.dimensions.widthMm} x ${variant.dimensions.heightMm}` : "",
});

const editablePaths = ["slug", "name", "description", "brand", "category_id", "status", "tags", "image_urls", "attributes", "variants"];

export function ProductEditPage() {
  const { productId } = useParams();
  const staff = useStaff();
  // Kept here: the form starts again (a new key) after the save's reload, and says it was saved.
  const [saved, setSaved] = useState<string>();
  const loaded = useLoad(async () => {
    const [product, categories] = await Promise.all([
      productId ? staff.catalog.getProduct({ id: productId }).then((r) => r.product) : Promise.resolve(undefined),
      staff.catalog.listCategories({ recursive: true }).then((r) => r.categories),
    ]);
    return { product, categories };
  }, [productId]);
  if (loaded.error) return <Refusal error={loaded.error} />;
  if (!loaded.data) return <p aria-busy="true">Loading…</p>;
  // A new key after each load: the form starts again from what the server holds.
  return (
    <ProductForm key={`${loaded.data.product?.etag ?? "new"}`} product={loaded.data.product} categories={loaded.data.categories} saved={saved}
      onSaved={() => { setSaved("Saved."); loaded.reload(); }} reload={() => { setSaved(undefined); loaded.reload(); }} />
  );
}

function ProductForm({ product, categories, saved, onSaved, reload }: { product?: Product; categories: { id: string; name: string; depth: number }[]; saved?: string; onSaved: () => void; reload: () => void }) {
  const staff = useStaff();
  const navigate = useNavigate();
  const action = useAction();
  const [variants, setVariants] = useState<VariantDraft[]>(() => (product?.variants.length ? product.variants.map((v, i) => variantDraft(i, v)) : [variantDraft(0)]));
  const [nextKey, setNextKey] = useState(variants.length);
  const archived = product?.status === ProductStatus.ARCHIVED;

  const setVariant = (key: number, change: Partial<VariantDraft>) => setVariants((list) => list.map((v) => (v.key === key ? { ...v, ...change } : v)));

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    await action.run(async () => {
      const draft = create(ProductSchema, {
        id: product?.id ?? "",
        etag: product?.etag ?? "",
        name: text("name"),
        slug: text("slug"),
        description: text("description"),
        brand: text("brand"),
        categoryId: text("categoryId"),
        status: Number(text("status")) as ProductStatus,
        tags: text("tags").split(",").map((tag) => tag.trim()).filter(Boolean),
        imageUrls: text("imageUrls").split(/\s+/).filter(Boolean),
        attributes: parsePairs(text("attributes"), "Attributes", /\n|,/),
        variants: variants.map((v, i) => ({
          sku: v.sku.trim(),
          options: parsePairs(v.options, `Variant ${i + 1} options`, /,/),
          prices: parseMoneyList(v.prices, `Variant ${i + 1} prices`),
          weightGrams: v.weightGrams.trim() ? BigInt(v.weightGrams.trim()) : 0n,
          dimensions: parseDimensions(v.dimensions, `Variant ${i + 1} dimensions`),
        })),
      });
      if (product) {
        await staff.catalog.updateProduct({ product: draft, updateMask: create(FieldMaskSchema, { paths: editablePaths }) });
        onSaved();
      } else {
        const created = await staff.catalog.createProduct({ product: draft });
        navigate(`/products/${created.product!.id}`);
      }
    });
  }

  return (
    <section>
      <div className="title-row">
        <h1>{product ? product.name : "New product"}</h1>
        <Link to="/products">All products</Link>
      </div>
      {product && <p className="hint">Status {enumName(ProductStatus, product.status)} · version {product.etag}</p>}
      <form onSubmit={save} className="editor">
        <fieldset disabled={archived}>
          <legend>Product</legend>
          <p className="field"><label htmlFor="name">Name</label><input id="name" name="name" required maxLength={200} defaultValue={product?.name} /></p>
          <p className="field"><label htmlFor="slug">Slug</label><input id="slug" name="slug" required pattern="[a-z0-9]+(-[a-z0-9]+)*" defaultValue={product?.slug} aria-describedby="slug-hint" /><span id="slug-hint" className="hint">Lower-case letters, digits and single hyphens; the product's address in the shop.</span></p>
          <p className="field"><label htmlFor="description">Description</label><textarea id="description" name="description" rows={3} defaultValue={product?.description} /></p>
          <p className="field"><label htmlFor="brand">Brand</label><input id="brand" name="brand" defaultValue={product?.brand} /></p>
          <p className="field">
            <label htmlFor="categoryId">Category</label>
            <select id="categoryId" name="categoryId" required defaultValue={product?.categoryId ?? ""}>
              <option value="" disabled>Choose a category</option>
              {categories.map((c) => <option key={c.id} value={c.id}>{"— ".repeat(c.depth)}{c.name}</option>)}
            </select>
          </p>
          <p className="field">
            <label htmlFor="status">Status</label>
            <select id="status" name="status" defaultValue={product?.status === ProductStatus.ACTIVE ? ProductStatus.ACTIVE : ProductStatus.DRAFT}>
              <option value={ProductStatus.DRAFT}>Draft (staff only)</option>
              <option value={ProductStatus.ACTIVE}>Active (for sale)</option>
            </select>
          </p>
          <FormRow id="tags" label="Tags" name="tags" defaultValue={product?.tags.join(", ")} hint="Comma-separated; up to 20 of up to 40 characters." />
          <p className="field"><label htmlFor="imageUrls">Image URLs</label><textarea id="imageUrls" name="imageUrls" rows={2} defaultValue={product?.imageUrls.join("\n")} aria-describedby="images-hint" /><span id="images-hint" className="hint">One https URL a line.</span></p>
          <p className="field"><label htmlFor="attributes">Attributes</label><textarea id="attributes" name="attributes" rows={2} defaultValue={product ? Object.entries(product.attributes).map(([k, v]) => `${k}=${v}`).join("\n") : ""} aria-describedby="attributes-hint" /><span id="attributes-hint" className="hint">One name=value a line, e.g. material=steel.</span></p>
        </fieldset>
        <fieldset disabled={archived}>
          <legend>Variants</legend>
          <table className="data variants">
            <thead><tr><th scope="col">SKU</th><th scope="col">Options</th><th scope="col">Prices</th><th scope="col">Weight (g)</th><th scope="col">Size (mm)</th><th scope="col"><span className="visually-hidden">Remove</span></th></tr></thead>
            <tbody>
              {variants.map((v, i) => (
                <tr key={v.key}>
                  <td><input aria-label={`Variant ${i + 1} SKU`} value={v.sku} required onChange={(e) => setVariant(v.key, { sku: e.target.value })} /></td>
                  <td><input aria-label={`Variant ${i + 1} options`} placeholder="size=M, colour=blue" value={v.options} onChange={(e) => setVariant(v.key, { options: e.target.value })} /></td>
                  <td><input aria-label={`Variant ${i + 1} prices`} placeholder="USD 12.99, EUR 11.50" value={v.prices} required onChange={(e) => setVariant(v.key, { prices: e.target.value })} /></td>
                  <td><input aria-label={`Variant ${i + 1} weight in grams`} inputMode="numeric" pattern="[0-9]*" value={v.weightGrams} onChange={(e) => setVariant(v.key, { weightGrams: e.target.value })} /></td>
                  <td><input aria-label={`Variant ${i + 1} dimensions in mm`} placeholder="300 x 200 x 150" value={v.dimensions} onChange={(e) => setVariant(v.key, { dimensions: e.target.value })} /></td>
                  <td><button type="button" className="secondary" disabled={variants.length === 1} onClick={() => setVariants((list) => list.filter((x) => x.key !== v.key))}>Remove variant {i + 1}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" className="secondary" onClick={() => { setVariants((list) => [...list, variantDraft(nextKey)]); setNextKey((k) => k + 1); }}>Add variant</button>
        </fieldset>
        <Refusal error={action.error} onReload={() => { action.clear(); reload(); }} />
        {saved && !action.error && <p role="status">{saved}</p>}
        <div className="actions">
          <button type="submit" disabled={action.busy || archived}>{product ? "Save changes" : "Create product"}</button>
          {product && !archived && (
            <ConfirmButton label="Archive" question={`Archive ${product.name}? It leaves the shop and cannot be reactivated.`} confirmLabel="Archive product" disabled={action.busy}
              onConfirm={() => void action.run(async () => { await staff.catalog.archiveProduct({ id: product.id, etag: product.etag }); reload(); })} />
          )}
        </div>
      </form>
    </section>
  );
}
