// A realistic, deterministic demo catalog — a category tree, products with variants, prices in USD
// and EUR, attributes, brands, tags, images and reviews — written through the catalog's own domain
// functions. Idempotent: categories and products are matched by slug, and a product is written with
// its reviews in one transaction, so a re-run only adds what is missing.
import { query, typedQueries, type Database } from "@bazaar/platform";
import { createCategory } from "./categories.ts";
import { catalogEntities } from "./entities.ts";
import { insertProduct } from "./products/products.ts";
import type { ProductInput } from "./products/product-input.ts";
import { createReview } from "./reviews/reviews.ts";
import { setSkuStock } from "./inventory-events.ts";

export interface SeedCatalogOptions {
  /** Products to create (default 1200). The same count always yields the same catalog. */
  products?: number;
  /** Seed of the generator (default 2026). */
  seed?: number;
  /** Called after each batch with the products done so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface SeededSku {
  sku: string;
  onHand: number;
  lowStockThreshold: number;
}

export interface SeedCatalogResult {
  categories: number;
  products: number;
  created: number;
  /** Every SKU with the stock it should have; feed it to inventory's seedStock. */
  stock: SeededSku[];
}

/** mulberry32: a tiny deterministic PRNG. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!,
  };
}

interface Kind {
  nouns: string[];
  adjectives: string[];
  brands: string[];
  options: Record<string, string[]>;
  attributes: Record<string, string[]>;
  /** USD price range in cents. */
  price: [number, number];
}

const apparel = (nouns: string[], brands: string[], price: [number, number]): Kind => ({
  nouns,
  adjectives: ["Classic", "Slim", "Relaxed", "Organic", "Vintage", "Essential", "Lightweight", "Heavyweight", "Everyday", "Premium"],
  brands,
  options: { size: ["XS", "S", "M", "L", "XL"], colour: ["black", "white", "navy", "olive", "grey", "red"] },
  attributes: { material: ["cotton", "linen", "wool", "polyester", "denim"], fit: ["regular", "slim", "loose"] },
  price,
});
const gear = (nouns: string[], adjectives: string[], brands: string[], attributes: Record<string, string[]>, price: [number, number], options: Record<string, string[]> = { colour: ["black", "silver", "white"] }): Kind => ({
  nouns,
  adjectives,
  brands,
  options,
  attributes,
  price,
});

/** The tree: top-level categories with their subcategories, each subcategory with what it sells. */
const TREE: Record<string, Record<string, Kind>> = {
  Clothing: {
    "T-Shirts": apparel(["T-Shirt", "Tee", "Henley", "Polo"], ["Northwind", "Loomcraft", "Basics Co"], [1200, 4500]),
    Jackets: apparel(["Jacket", "Parka", "Windbreaker", "Bomber"], ["Northwind", "Alpine Works", "Stormline"], [6000, 32000]),
    Jeans: apparel(["Jeans", "Chinos", "Trousers"], ["Loomcraft", "Indigo Mill", "Basics Co"], [3500, 12000]),
    Dresses: apparel(["Dress", "Sundress", "Maxi Dress", "Shirt Dress"], ["Maison Lune", "Loomcraft"], [3000, 15000]),
  },
  Footwear: {
    Sneakers: apparel(["Sneakers", "Trainers", "Court Shoes"], ["Stride", "Pace Lab", "Northwind"], [4500, 16000]),
    Boots: apparel(["Hiking Boots", "Chelsea Boots", "Work Boots"], ["Alpine Works", "Stride", "Ironfoot"], [7000, 24000]),
    Sandals: apparel(["Sandals", "Slides", "Flip Flops"], ["Pace Lab", "Sunday"], [1500, 6000]),
  },
  Electronics: {
    Headphones: gear(["Headphones", "Earbuds", "Headset"], ["Wireless", "Noise Cancelling", "Studio", "Sport", "Bluetooth"], ["Sonora", "Pulse Audio", "Kestrel"], { connectivity: ["bluetooth", "wired", "usb-c"], battery: ["20h", "30h", "40h"] }, [2500, 40000]),
    Speakers: gear(["Speaker", "Soundbar", "Smart Speaker"], ["Portable", "Waterproof", "Compact", "Home"], ["Sonora", "Pulse Audio", "Boom & Co"], { connectivity: ["bluetooth", "wifi"], power: ["10W", "20W", "50W"] }, [3000, 60000]),
    Cameras: gear(["Camera", "Action Camera", "Instant Camera"], ["Mirrorless", "4K", "Compact", "Retro"], ["Lumix Labs", "Optika", "Kestrel"], { resolution: ["12MP", "24MP", "45MP"], sensor: ["full-frame", "aps-c", "1-inch"] }, [9000, 250000]),
    Laptops: gear(["Laptop", "Ultrabook", "Chromebook"], ["Thin", "Gaming", "Business", "Convertible"], ["Zenbyte", "Corvid", "Aether"], { ram: ["8GB", "16GB", "32GB"], screen: ["13in", "14in", "16in"] }, [40000, 300000], { storage: ["256GB", "512GB", "1TB"] }),
    Phones: gear(["Smartphone", "Phone"], ["5G", "Compact", "Pro", "Rugged"], ["Aether", "Zenbyte", "Nimbus"], { screen: ["6.1in", "6.7in"], camera: ["dual", "triple"] }, [20000, 150000], { storage: ["128GB", "256GB", "512GB"], colour: ["black", "blue", "silver"] }),
  },
  Home: {
    Kitchen: gear(["Frying Pan", "Saucepan", "Chef Knife", "Kettle", "Cutting Board"], ["Cast Iron", "Stainless", "Nonstick", "Copper", "Bamboo"], ["Forge & Fire", "Hearth", "Edgeworks"], { material: ["steel", "iron", "ceramic", "wood"], dishwasher: ["yes", "no"] }, [1500, 20000]),
    Bedding: gear(["Duvet Cover", "Pillow", "Sheet Set", "Throw Blanket"], ["Linen", "Cotton", "Silk", "Weighted"], ["Slumber", "Hearth"], { material: ["linen", "cotton", "silk"], size: ["single", "double", "king"] }, [2000, 18000], { colour: ["white", "sand", "sage"] }),
    Lighting: gear(["Desk Lamp", "Floor Lamp", "Pendant Light", "String Lights"], ["LED", "Dimmable", "Industrial", "Smart"], ["Lumen", "Glowworks"], { bulb: ["E27", "integrated"], power: ["5W", "10W", "40W"] }, [1500, 25000]),
    Furniture: gear(["Chair", "Desk", "Bookshelf", "Side Table", "Sofa"], ["Oak", "Walnut", "Modular", "Mid-Century", "Folding"], ["Timberline", "Nordhus"], { material: ["oak", "walnut", "steel", "pine"], assembly: ["required", "none"] }, [5000, 150000]),
  },
  Sports: {
    Running: gear(["Running Vest", "Water Bottle", "GPS Watch", "Headlamp"], ["Ultralight", "Reflective", "Trail", "Insulated"], ["Pace Lab", "Stride", "Kestrel"], { weight: ["light", "medium"], waterproof: ["yes", "no"] }, [1500, 45000]),
    Cycling: gear(["Bike Helmet", "Bike Light", "Saddle Bag", "Cycling Gloves"], ["Aero", "Carbon", "Commuter", "Gravel"], ["Velo Works", "Ridgeline"], { weight: ["light", "medium"], size: ["S", "M", "L"] }, [1500, 30000]),
    Camping: gear(["Tent", "Sleeping Bag", "Camping Stove", "Backpack"], ["Two-Person", "Ultralight", "Four-Season", "Compact"], ["Alpine Works", "Ridgeline", "Basecamp"], { season: ["3-season", "4-season"], capacity: ["1p", "2p", "4p", "40L", "60L"] }, [3000, 60000]),
    Yoga: gear(["Yoga Mat", "Yoga Block", "Strap", "Bolster"], ["Eco", "Non-Slip", "Travel", "Cork"], ["Lotus Lab", "Sunday"], { material: ["cork", "rubber", "tpe"], thickness: ["3mm", "5mm", "8mm"] }, [1000, 12000], { colour: ["plum", "teal", "black"] }),
  },
  Books: {
    Fiction: gear(["Novel", "Short Stories", "Thriller", "Fantasy Saga"], ["The Silent", "A Distant", "The Last", "Midnight", "The Glass"], ["Harbour Press", "Quill & Ink", "Lantern Books"], { format: ["hardcover", "paperback"], language: ["English", "German", "French"] }, [900, 3500], { format: ["hardcover", "paperback", "ebook"] }),
    Cooking: gear(["Cookbook", "Baking Book", "Guide to Fermentation"], ["Simple", "Seasonal", "Plant-Based", "Italian"], ["Harbour Press", "Hearth Books"], { cuisine: ["italian", "japanese", "vegan", "french"], pages: ["200", "350"] }, [1500, 5000], { format: ["hardcover", "paperback"] }),
    Science: gear(["Guide to Astronomy", "History of Physics", "Field Guide to Birds"], ["Illustrated", "Pocket", "Complete"], ["Lantern Books", "Quill & Ink"], { level: ["beginner", "advanced"], pages: ["150", "400"] }, [1200, 6000], { format: ["hardcover", "paperback"] }),
  },
  Beauty: {
    Skincare: gear(["Moisturiser", "Serum", "Cleanser", "Sunscreen"], ["Hydrating", "Vitamin C", "Gentle", "Mineral"], ["Dewdrop", "Botanica"], { skin: ["dry", "oily", "combination"], vegan: ["yes", "no"] }, [900, 6000], { volume: ["30ml", "50ml", "100ml"] }),
    Haircare: gear(["Shampoo", "Conditioner", "Hair Oil", "Hair Dryer"], ["Repairing", "Volumising", "Argan", "Ionic"], ["Botanica", "Salon Pro"], { hair: ["curly", "straight", "fine"], vegan: ["yes", "no"] }, [800, 15000], { volume: ["250ml", "500ml"] }),
  },
  Toys: {
    "Building Sets": gear(["Building Set", "Marble Run", "Construction Kit"], ["Starter", "Deluxe", "Creative", "Space"], ["Brickworks", "Tinker Co"], { age: ["3+", "6+", "10+"], pieces: ["100", "500", "1000"] }, [1500, 15000], { theme: ["space", "city", "castle"] }),
    "Board Games": gear(["Board Game", "Card Game", "Puzzle"], ["Strategy", "Family", "Cooperative", "Party"], ["Meeple House", "Tinker Co"], { players: ["2", "2-4", "2-6"], age: ["8+", "12+"] }, [1200, 8000], { edition: ["standard", "deluxe"] }),
  },
};

const WORDS = ["durable", "comfortable", "versatile", "lightweight", "sustainable", "handcrafted", "water-resistant", "easy to clean", "award-winning", "minimalist"];
const REVIEW_TITLES: Record<number, string[]> = {
  1: ["Disappointed", "Broke quickly", "Not as described"],
  2: ["Could be better", "Meh", "Expected more"],
  3: ["Okay for the price", "Does the job", "Average"],
  4: ["Very good", "Happy with it", "Would buy again"],
  5: ["Excellent!", "Love it", "Best purchase this year"],
};

const slugify = (s: string) => s.toLowerCase().replace(/&/g, "and").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

/** Deterministic UUIDv7-shaped id (so re-runs create the same reviewers). */
function seededUuid(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `01900000-0000-7000-8000-${hex}`;
}

interface PlannedProduct {
  input: Omit<ProductInput, "categoryId"> & { categorySlug: string };
  reviews: { user: string; rating: number; title: string; body: string }[];
  stock: SeededSku[];
}

/**
 * A plausible unit weight, 150 g – 3.2 kg, from the product's SKU base (not from the random sequence,
 * so that adding weights changed no other seeded value); larger variants weigh a little more.
 */
function unitWeight(skuBase: string, variantIndex: number): number {
  let hash = 0;
  for (const c of skuBase) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return 150 + (hash % 61) * 50 + variantIndex * 40;
}

function plan(count: number, seed: number): { categories: { slug: string; name: string; parent?: string }[]; products: PlannedProduct[] } {
  const rnd = random(seed);
  const categories: { slug: string; name: string; parent?: string }[] = [];
  const leaves: { slug: string; kind: Kind }[] = [];
  for (const [top, subs] of Object.entries(TREE)) {
    categories.push({ slug: slugify(top), name: top });
    for (const [sub, kind] of Object.entries(subs)) {
      const slug = `${slugify(top)}-${slugify(sub)}`;
      categories.push({ slug, name: sub, parent: slugify(top) });
      leaves.push({ slug, kind });
    }
  }
  const products: PlannedProduct[] = [];
  for (let i = 0; i < count; i++) {
    const leaf = leaves[i % leaves.length]!;
    const kind = leaf.kind;
    const brand = rnd.pick(kind.brands);
    const name = `${brand} ${rnd.pick(kind.adjectives)} ${rnd.pick(kind.nouns)} ${100 + i}`;
    const slug = slugify(name);
    const [low, high] = kind.price;
    const base = Math.round((low + rnd.next() * (high - low)) / 100) * 100 - 1;
    const [optionName, optionValues] = Object.entries(kind.options)[0]!;
    const variantCount = rnd.int(1, Math.min(4, optionValues.length));
    const start = rnd.int(0, optionValues.length - variantCount);
    const skuBase = `B${String(i + 1).padStart(5, "0")}`;
    const variants = optionValues.slice(start, start + variantCount).map((value, v) => {
      const usd = base + v * Math.round(base * 0.05);
      const sku = `${skuBase}-${slugify(value).toUpperCase()}`;
      return { sku, options: { [optionName]: value }, prices: { USD: BigInt(usd), EUR: BigInt(Math.round(usd * 0.92)) }, weightGrams: unitWeight(skuBase, v) };
    });
    const attributes = Object.fromEntries(Object.entries(kind.attributes).map(([k, values]) => [k, rnd.pick(values)]));
    const description = `The ${name} is ${rnd.pick(WORDS)} and ${rnd.pick(WORDS)}. ${brand} designed it for everyday use; ${Object.entries(attributes)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ")}.`;
    const reviewCount = rnd.int(0, 8);
    const quality = rnd.next();
    const reviews = Array.from({ length: reviewCount }, (_, r) => {
      const rating = Math.max(1, Math.min(5, Math.round(3 + quality * 2.5 - rnd.next() * 2)));
      return { user: seededUuid(((i * 7 + r * 131) % 5000) + 1 + r * 100000), rating, title: rnd.pick(REVIEW_TITLES[rating]!), body: `${rnd.pick(REVIEW_TITLES[rating]!)}. ${rnd.pick(WORDS)}.` };
    });
    const stock = variants.map((v) => ({ sku: v.sku, onHand: rnd.next() < 0.05 ? 0 : rnd.int(1, 250), lowStockThreshold: 5 }));
    products.push({
      input: {
        slug,
        name,
        description,
        brand,
        categorySlug: leaf.slug,
        status: "active",
        tags: [slugify(leaf.slug.split("-").at(-1)!), slugify(brand), rnd.pick(["new", "bestseller", "sale", "eco", "gift"])],
        imageUrls: [`https://images.bazaar.example/products/${slug}/1.jpg`, `https://images.bazaar.example/products/${slug}/2.jpg`],
        attributes,
        variants,
      },
      reviews,
      stock,
    });
  }
  return { categories, products };
}

export async function seedCatalog(database: Database, options: SeedCatalogOptions = {}): Promise<SeedCatalogResult> {
  const count = options.products ?? 1200;
  const { categories, products } = plan(count, options.seed ?? 2026);

  const categoryIds = new Map<string, string>();
  await database.transaction(async (em) => {
    const existing = await typedQueries(em, catalogEntities).selectFrom("category").select(["id", "slug"]).where("slug", "in", categories.map((c) => c.slug)).execute();
    for (const row of existing) categoryIds.set(row.slug, row.id);
    for (const category of categories) {
      if (categoryIds.has(category.slug)) continue;
      const created = await createCategory(em, { slug: category.slug, name: category.name, parentId: category.parent ? categoryIds.get(category.parent)! : "" });
      categoryIds.set(category.slug, created.id);
    }
  });

  let created = 0;
  const batchSize = 50;
  for (let start = 0; start < products.length; start += batchSize) {
    const batch = products.slice(start, start + batchSize);
    await database.transaction(async (em) => {
      const existing = new Set(
        (await typedQueries(em, catalogEntities).selectFrom("product").select("slug").where("slug", "in", batch.map((p) => p.input.slug)).execute()).map((r) => r.slug),
      );
      for (const planned of batch) {
        if (existing.has(planned.input.slug)) continue;
        const { categorySlug, ...rest } = planned.input;
        const id = await insertProduct(em, { ...rest, categoryId: categoryIds.get(categorySlug)! });
        for (const review of planned.reviews) await createReview(em, review.user, { productId: id, rating: review.rating, title: review.title, body: review.body });
        created++;
      }
      // In stock exactly when the seeded stock says so (inventory would say the same through its events).
      const skus = batch.flatMap((p) => p.stock);
      await setSkuStock(em, skus.filter((s) => s.onHand > 0).map((s) => s.sku), true);
      await setSkuStock(em, skus.filter((s) => s.onHand === 0).map((s) => s.sku), false);
    });
    options.onProgress?.(Math.min(start + batchSize, products.length), products.length);
  }
  // Fresh statistics (and no dead rows from the in-stock updates), so the planner picks the indexes.
  const em = database.em();
  // Raw SQL: VACUUM has no query-builder form.
  for (const table of ["category", "product", "variant", "product_price", "sku_stock", "review", "search_term"]) await query(em, `vacuum analyze ${table}`);
  return { categories: categories.length, products: products.length, created, stock: products.flatMap((p) => p.stock) };
}
