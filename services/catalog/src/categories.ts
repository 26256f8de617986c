// The category tree: materialised paths ("/<root>/…/<self>/") make "this category and every
// descendant" one index range scan, and moving a subtree one UPDATE.
import { create } from "@bufbuild/protobuf";
import {
  AlreadyExistsError,
  checkUpdateMask,
  checkUuid,
  ConflictError,
  FailedPreconditionError,
  isUniqueViolation,
  isUuid,
  NotFoundError,
  sql,
  typedQueries,
  violations,
  type EntityManager,
} from "@bazaar/platform";
import { CategorySchema, type Category } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { uuidv7 } from "uuidv7";
import { catalogEntities } from "./entities.ts";
import { checkSlug, checkText, etagOf } from "./validation.ts";

const tables = (em: EntityManager) => typedQueries(em, catalogEntities);
const categorySelection = ["id", "parent_id", "slug", "name", "path", "version"] as const;
const selectCategories = (em: EntityManager) => tables(em).selectFrom("category").select(categorySelection);
export type CategoryRow = Awaited<ReturnType<ReturnType<typeof selectCategories>["executeTakeFirstOrThrow"]>>;

export function toCategory(row: CategoryRow): Category {
  const ids = row.path.split("/").filter(Boolean);
  return create(CategorySchema, {
    id: row.id,
    parentId: row.parent_id ?? "",
    slug: row.slug,
    name: row.name,
    depth: ids.length - 1,
    ancestorIds: ids.slice(0, -1),
    etag: etagOf(row.version),
  });
}

export async function findCategory(em: EntityManager, id: string, lock = false): Promise<CategoryRow> {
  const row = await selectCategories(em)
    .where("id", "=", id)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`category ${id} not found`);
  return row;
}

/** Category by id or slug (imports name categories either way). */
export async function categoryIdsByKey(em: EntityManager, keys: string[]): Promise<Map<string, string>> {
  const ids = keys.filter(isUuid);
  if (keys.length === 0) return new Map();
  const rows = await tables(em)
    .selectFrom("category")
    .select(["id", "slug"])
    .where((eb) => eb.or([eb("slug", "in", keys), ...(ids.length > 0 ? [eb("id", "in", ids)] : [])]))
    .execute();
  const map = new Map<string, string>();
  for (const row of rows) {
    map.set(row.slug, row.id);
    map.set(row.id, row.id);
  }
  return map;
}

export async function listCategories(em: EntityManager, parentId: string, recursive: boolean): Promise<Category[]> {
  const v = violations();
  if (parentId !== "") checkUuid(v, "parent_id", parentId);
  v.throwIfAny();
  const parent = parentId === "" ? undefined : await findCategory(em, parentId);
  const select = selectCategories(em);
  const rows = recursive
    ? await (parent ? select.where("path", "like", `${parent.path}%`).where("id", "<>", parent.id) : select).orderBy("path").execute()
    : await select.where("parent_id", parent ? "=" : "is", parent?.id ?? null).orderBy("name").orderBy("id").execute();
  return rows.map(toCategory);
}

export interface CategoryInput {
  parentId: string;
  slug: string;
  name: string;
}

function validateCategory(input: CategoryInput, prefix: string) {
  const v = violations();
  if (input.parentId !== "") checkUuid(v, `${prefix}parent_id`, input.parentId);
  checkSlug(v, input.slug, `${prefix}slug`);
  checkText(v, input.name, `${prefix}name`, 1, 120);
  v.throwIfAny();
}

function slugTaken(error: unknown, slug: string): never {
  if (isUniqueViolation(error, "category_slug_key")) throw new AlreadyExistsError(`category slug "${slug}" is taken`, { cause: error });
  throw error;
}

export async function createCategory(em: EntityManager, input: CategoryInput, id = uuidv7()): Promise<Category> {
  validateCategory(input, "category.");
  const parent = input.parentId === "" ? undefined : await findCategory(em, input.parentId);
  const path = `${parent?.path ?? "/"}${id}/`;
  try {
    const row = await tables(em)
      .insertInto("category")
      .values({ id, parent_id: parent?.id ?? null, slug: input.slug, name: input.name.trim(), path })
      .returning(categorySelection)
      .executeTakeFirstOrThrow();
    return toCategory(row);
  } catch (error) {
    slugTaken(error, input.slug);
  }
}

export async function updateCategory(em: EntityManager, patch: CategoryInput & { id: string; etag: string }, paths: string[]): Promise<Category> {
  const v = violations();
  checkUuid(v, "category.id", patch.id);
  checkUpdateMask(v, paths, ["name", "slug", "parent_id"]);
  v.throwIfAny();
  const current = await findCategory(em, patch.id, true);
  if (patch.etag !== "" && patch.etag !== etagOf(current.version)) throw new ConflictError("the category changed since it was read (stale etag)", { reason: "STALE_ETAG" });
  const next: CategoryInput = {
    parentId: paths.includes("parent_id") ? patch.parentId : (current.parent_id ?? ""),
    slug: paths.includes("slug") ? patch.slug : current.slug,
    name: paths.includes("name") ? patch.name : current.name,
  };
  validateCategory(next, "category.");
  let path = current.path;
  if (next.parentId !== (current.parent_id ?? "")) {
    const parent = next.parentId === "" ? undefined : await findCategory(em, next.parentId);
    if (parent && parent.path.startsWith(current.path)) {
      throw new FailedPreconditionError("a category cannot move under itself or one of its descendants", { reason: "CATEGORY_CYCLE" });
    }
    path = `${parent?.path ?? "/"}${current.id}/`;
    // The whole subtree follows.
    await tables(em)
      .updateTable("category")
      .set({ path: sql<string>`${path} || substr(path, ${current.path.length + 1})` })
      .where("path", "like", `${current.path}%`)
      .where("id", "<>", current.id)
      .execute();
  }
  try {
    const row = await tables(em)
      .updateTable("category")
      .set((eb) => ({ parent_id: next.parentId === "" ? null : next.parentId, slug: next.slug, name: next.name.trim(), path, version: eb("version", "+", 1) }))
      .where("id", "=", current.id)
      .returning(categorySelection)
      .executeTakeFirstOrThrow();
    return toCategory(row);
  } catch (error) {
    slugTaken(error, next.slug);
  }
}

export async function deleteCategory(em: EntityManager, id: string): Promise<void> {
  const v = violations();
  checkUuid(v, "id", id);
  v.throwIfAny();
  const current = await findCategory(em, id, true);
  const child = await tables(em).selectFrom("category").select("id").where("parent_id", "=", current.id).limit(1).executeTakeFirst();
  if (child) throw new FailedPreconditionError("the category has subcategories", { reason: "CATEGORY_NOT_EMPTY" });
  const product = await tables(em).selectFrom("product").select("id").where("category_id", "=", current.id).limit(1).executeTakeFirst();
  if (product) throw new FailedPreconditionError("the category has products (archived ones included)", { reason: "CATEGORY_NOT_EMPTY" });
  await tables(em).deleteFrom("category").where("id", "=", current.id).execute();
}
