// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
import { Link } from "react-router";
import { formatMoney, strings } from "../strings.ts";
import type { ProductView } from "../views.ts";

export function ProductGrid({ products }: { products: ProductView[] }) {
  if (products.length === 0) return <p>{strings.noProducts}</p>;
  return (
    <ul className="grid">
      {products.map((p) => (
        <li key={p.id} className="card">
          {p.imageUrls[0] ? <img src={p.imageUrls[0]} alt="" width={240} height={240} loading="lazy" /> : <div className="placeholder" aria-hidden="true" />}
          <Link to={`/p/${p.slug}`}>{p.name}</Link>
          <span className="price">{strings.from} {formatMoney(p.priceFrom)}</span>
          {!p.inStock && <span className="stock-out">{strings.outOfStock}</span>}
        </li>
      ))}
    </ul>
  );
}
