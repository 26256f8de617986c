// Browsing and search: one SQL query per page over the filtered set, in a total order (sort key, id)
// so keyset pagination neither repeats nor skips rows while the catalog changes; facets over the
// whole match set; PostgreSQL full-text search (name > brand/tags > description) OR trigram word
// similarity on the name, so "hedphones" still finds "Headphones".
import { create } from "@bufbuild/protobuf";
import {
  ADMIN_ROLE,
  checkCurrencyCode,
  checkPageSize,
  checkUuid,
  currentPrincipal,
  decodePageToken,
  encodePageToken,
  isUuid,
  PermissionDeniedError,
  pgArray,
  query,
  violations,
  type EntityManager,
  type Violations,
} from "@bazaar/platform";
import {
  FacetsSchema,
  FacetValueSchema,
  ProductSort,
  ProductStatus,
  type Facets,
  type Product,
  type ProductFilter,
} from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { findCategory } from "../categories.ts";
import { MAX_PRICE_MINOR, PAGE_SIZE } from "../validation.ts";
import { toProduct, wholeProductColumns, type WholeProductRow } from "./products.ts";
import { statusNames } from "./product-input.ts";

export interface BrowseRequest {
  query?: string;
  filter: ProductFilter | undefined;
  sort: ProductSort;
  pageSize: number;
  pageToken: string;
}

export interface BrowsePage {
  products: Product[];
  nextPageToken: string;
  facets?: Facets;
  totalSize?: bigint;
}

/** Trigram similarity from which a known word counts as what a misspelt query word meant. */
const TYPO_SIMILARITY = 0.4;

/** The words of a query (letters and digits), lower-cased, at most 8. */
export function queryWords(query: string): string[] {
  return query.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean).slice(0, 8);
}

/**
 * A tsquery (for to_tsquery) that ANDs the query's words, each ORed with its prefix and with the
 * closest words of product names and brands (trigram similarity on the small search_term table), so
 * "wirless hedphones" becomes (wirless:* | wireless) & (hedphones:* | headphones).
 */
async function typoTolerantQuery(em: EntityManager, text: string): Promise<string> {
  const words = queryWords(text);
  const rows = await query<{ word: string; term: string }>(
    em,
    `select w.word, t.term from unnest(?::text[]) as w(word)
     cross join lateral (select term from search_term where term % w.word and term <> w.word and similarity(term, w.word) >= ?
                         order by similarity(term, w.word) desc, term limit 3) t`,
    [pgArray(words), TYPO_SIMILARITY],
  );
  return words
    .map((word) => [`'${word}':*`, ...rows.filter((r) => r.word === word).map((r) => `'${r.term.replaceAll("'", "''")}'`)].join(" | "))
    .map((alternatives) => `(${alternatives})`)
    .join(" & ");
}

/** Price bands of the facet, in minor units: [from, to). */
const PRICE_BANDS: [number, number | undefined][] = [
  [0, 1000],
  [1000, 2500],
  [2500, 5000],
  [5000, 10000],
  [10000, 25000],
  [25000, undefined],
];

interface Normalised {
  query: string;
  categoryId: string;
  brands: string[];
  currency: string;
  minPrice: string;
  maxPrice: string;
  attributes: [string, string[]][];
  inStockOnly: boolean;
  statuses: string[];
  sort: ProductSort;
}

function normalise(request: BrowseRequest, v: Violations): Normalised {
  const filter = request.filter;
  const query = (request.query ?? "").trim();
  const categoryId = filter?.categoryId ?? "";
  if (categoryId !== "") checkUuid(v, "filter.category_id", categoryId);
  const brands = [...(filter?.brands ?? [])];
  v.check(brands.length <= 20, "filter.brands", "must have at most 20 brands");
  brands.forEach((b, i) => v.check(b.length >= 1 && b.length <= 80, `filter.brands[${i}]`, "must be 1–80 characters"));
  const currency = filter?.currencyCode || "USD";
  checkCurrencyCode(v, "filter.currency_code", currency);
  const min = filter?.minPriceMinor ?? 0n;
  const max = filter?.maxPriceMinor ?? 0n;
  v.check(min >= 0n && min <= MAX_PRICE_MINOR, "filter.min_price_minor", `must be between 0 and ${MAX_PRICE_MINOR}`);
  v.check(max >= 0n && max <= MAX_PRICE_MINOR, "filter.max_price_minor", `must be between 0 and ${MAX_PRICE_MINOR}`);
  if (min > 0n && max > 0n) v.check(min <= max, "filter.max_price_minor", "must not be below min_price_minor");
  const attributes = filter?.attributes ?? [];
  v.check(attributes.length <= 10, "filter.attributes", "must have at most 10 attribute filters");
  attributes.forEach((a, i) => {
    v.check(a.name.length >= 1 && a.name.length <= 40, `filter.attributes[${i}].name`, "must be 1–40 characters");
    v.check(a.values.length >= 1 && a.values.length <= 20, `filter.attributes[${i}].values`, "must have 1–20 values");
    a.values.forEach((value, j) => v.check(value.length <= 200, `filter.attributes[${i}].values[${j}]`, "must be at most 200 characters"));
  });
  const statuses = [...new Set(filter?.statuses ?? [])];
  statuses.forEach((s, i) => v.check(s !== ProductStatus.UNSPECIFIED && statusNames[s] !== undefined, `filter.statuses[${i}]`, "is not a known status"));
  v.check(Object.values(ProductSort).includes(request.sort), "sort", "is not a known sort");
  return {
    query,
    categoryId,
    brands: [...brands].sort(),
    currency,
    minPrice: min.toString(),
    maxPrice: max.toString(),
    attributes: attributes.map((a) => [a.name, [...a.values].sort()] as [string, string[]]).sort(([a], [b]) => a.localeCompare(b)),
    inStockOnly: filter?.inStockOnly ?? false,
    statuses: statuses.length === 0 ? ["active"] : statuses.map((s) => statusNames[s]).sort(),
    sort: request.sort === ProductSort.UNSPECIFIED ? ProductSort.RELEVANCE : request.sort,
  };
}

/** The filtered set as SQL: `from … where …` with its parameters, plus the sort key expression. */
function matchSql(n: Normalised, tsquery: string) {
  const params: unknown[] = [];
  const where: string[] = ["p.status = any(?::text[])"];
  params.push(pgArray(n.statuses));
  let from = "product p";
  let score = "0::numeric";
  if (n.query !== "") where.push("p.search_vector @@ tsq");
  if (n.categoryId !== "") {
    // Unknown categories match nothing here; browse() then says NOT_FOUND.
    where.push("p.category_id in (select id from category where path like (select path from category where id = ?) || '%')");
    params.push(n.categoryId);
  }
  if (n.brands.length > 0) {
    where.push("p.brand = any(?::text[])");
    params.push(pgArray(n.brands));
  }
  const priced = n.sort === ProductSort.PRICE_ASC || n.sort === ProductSort.PRICE_DESC || n.minPrice !== "0" || n.maxPrice !== "0";
  if (priced) {
    where.push("pp.currency = ?");
    params.push(n.currency);
    if (n.minPrice !== "0") {
      where.push("pp.amount_minor >= ?");
      params.push(n.minPrice);
    }
    if (n.maxPrice !== "0") {
      where.push("pp.amount_minor <= ?");
      params.push(n.maxPrice);
    }
  }
  for (const [name, values] of n.attributes) {
    where.push(`(${values.map(() => "p.attributes @> ?::jsonb").join(" or ")})`);
    params.push(...values.map((value) => JSON.stringify({ [name]: value })));
  }
  if (n.inStockOnly) where.push("p.in_stock");
  if (priced) from += " join product_price pp on pp.product_id = p.id";
  if (n.query !== "") {
    from += " cross join to_tsquery('english', ?) tsq";
    params.unshift(tsquery);
  }
  if (n.query !== "") score = "round((ts_rank_cd(p.search_vector, tsq) + word_similarity(?, p.name))::numeric, 6)";
  // Sort key (numeric) and direction; id breaks ties in the same direction.
  let key: string;
  let descending = true;
  switch (n.sort) {
    case ProductSort.PRICE_ASC:
      key = "pp.amount_minor::numeric";
      descending = false;
      break;
    case ProductSort.PRICE_DESC:
      key = "pp.amount_minor::numeric";
      break;
    case ProductSort.NEWEST:
      key = "0::numeric"; // uuidv7 ids are in creation order
      break;
    case ProductSort.RATING:
      key = "round(p.rating_avg::numeric, 6)";
      break;
    default:
      key = n.query !== "" ? score : "p.rating_count::numeric";
  }
  const keyParams = key === score && n.query !== "" ? [n.query] : [];
  return { from, where: where.join(" and "), params, key, keyParams, descending };
}

export async function browse(em: EntityManager, request: BrowseRequest, withFacets: boolean): Promise<BrowsePage> {
  const v = violations();
  if (request.query !== undefined) {
    const length = [...request.query.trim()].length;
    if (v.check(length >= 1 && length <= 200, "query", "must be 1–200 characters")) {
      v.check(queryWords(request.query).length > 0, "query", "must contain a word");
    }
  }
  const size = checkPageSize(v, request.pageSize, PAGE_SIZE);
  const n = normalise(request, v);
  // The platform's page tokens, bound to the normalised filters; the position is the last row's sort
  // key (a decimal string, empty for id-only orders) and id. Paging stays in the SQL below: the
  // full-text ranking has no builder form, so keysetPage does not apply.
  const [afterKey, afterId] =
    decodePageToken(v, n, request.pageToken, {
      valid: ([key, id, ...rest]) => rest.length === 0 && key !== undefined && /^(-?\d+(\.\d+)?)?$/.test(key) && isUuid(id ?? ""),
    }) ?? [];
  v.throwIfAny();
  if (n.statuses.some((s) => s !== "active") && !currentPrincipal()?.roles.includes(ADMIN_ROLE)) {
    throw new PermissionDeniedError("only admins may list draft or archived products", { reason: "ROLE_REQUIRED" });
  }

  const tsquery = n.query === "" ? "" : await typoTolerantQuery(em, n.query);
  const sql = matchSql(n, tsquery);
  const op = sql.descending ? "<" : ">";
  const order = sql.descending ? "desc" : "asc";
  const pageParams = [...sql.keyParams, ...sql.params];
  let where = sql.where;
  if (afterId !== undefined) {
    where += ` and (${sql.key}, p.id) ${op} (?::numeric, ?::uuid)`;
    pageParams.push(...sql.keyParams, afterKey || "0", afterId);
  }
  // One round trip: the page's keys, then the whole products of the page in the same order.
  const pageQuery = query<WholeProductRow & { k: string }>(
    em,
    `with page as (select p.id, ${sql.key} as k from ${sql.from} where ${where} order by 2 ${order}, p.id ${order} limit ${size + 1})
     select page.k, ${wholeProductColumns} from page join product p on p.id = page.id order by page.k ${order}, p.id ${order}`,
    pageParams,
  );
  const facetsQuery = withFacets ? facets(em, n, tsquery) : undefined;
  facetsQuery?.catch(() => undefined); // awaited below; not an unhandled rejection if the page fails first
  const rows = await pageQuery;
  if (rows.length === 0 && n.categoryId !== "") await findCategory(em, n.categoryId);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  const result: BrowsePage = {
    products: page.map(toProduct),
    nextPageToken: rows.length > size && last ? encodePageToken(n, [String(last.k), last.id]) : "",
  };
  if (facetsQuery) Object.assign(result, await facetsQuery);
  return result;
}

async function facets(em: EntityManager, n: Normalised, tsquery: string): Promise<{ facets: Facets; totalSize: bigint }> {
  // Disjunctive facets: brand counts ignore the brand filter and price bands the price filter, so a
  // shopper sees what choosing another brand or band would give.
  const sql = matchSql(n, tsquery);
  const withoutBrands = matchSql({ ...n, brands: [] }, tsquery);
  const withoutPrice = matchSql({ ...n, minPrice: "0", maxPrice: "0" }, tsquery);
  // Category facet: the next level below the filtered category (the top level without one), each
  // counting its whole subtree.
  const depth = n.categoryId === "" ? 0 : (await findCategory(em, n.categoryId)).path.split("/").filter(Boolean).length;
  const bandCases = PRICE_BANDS.map(([from, to]) => `when fp.amount_minor >= ${from}${to === undefined ? "" : ` and fp.amount_minor < ${to}`} then '${from}-${to ?? ""}'`).join(" ");
  const rows = await query<{ kind: string; value: string; label: string | null; count: string }>(
    em,
    `with m as (select p.id, c.path from ${sql.from} join category c on c.id = p.category_id where ${sql.where}),
          mb as (select p.brand from ${withoutBrands.from} where ${withoutBrands.where}),
          mp as (select p.id from ${withoutPrice.from} where ${withoutPrice.where})
     select 'total' as kind, '' as value, null as label, count(*) as count from m
     union all
     (select 'brand', brand, brand, count(*) from mb where brand <> '' group by brand order by count(*) desc, brand limit 30)
     union all
     (select 'category', x.id, c.name, x.count from (select split_part(path, '/', ${depth + 2}) as id, count(*) as count from m group by 1) x join category c on c.id::text = x.id order by x.count desc, c.name)
     union all
     (select 'price', band, null, count(*) from (select case ${bandCases} end as band from mp join product_price fp on fp.product_id = mp.id and fp.currency = ?) b where band is not null group by band)`,
    [...sql.params, ...withoutBrands.params, ...withoutPrice.params, n.currency],
  );
  const result = create(FacetsSchema, {});
  let total = 0n;
  const money = (minor: number) => `${(minor / 100).toFixed(2)}`;
  for (const row of rows) {
    if (row.kind === "total") total = BigInt(row.count);
    else if (row.kind === "brand") result.brands.push(create(FacetValueSchema, { value: row.value, label: row.label ?? row.value, count: BigInt(row.count) }));
    else if (row.kind === "category") result.categories.push(create(FacetValueSchema, { value: row.value, label: row.label ?? "", count: BigInt(row.count) }));
    else if (row.kind === "price") {
      const [from, to] = row.value.split("-");
      const label = to ? `${money(Number(from))}–${money(Number(to))} ${n.currency}` : `${money(Number(from))}+ ${n.currency}`;
      result.priceBands.push(create(FacetValueSchema, { value: row.value, label, count: BigInt(row.count) }));
    }
  }
  result.priceBands.sort((a, b) => Number(a.value.split("-")[0]) - Number(b.value.split("-")[0]));
  return { facets: result, totalSize: total };
}
