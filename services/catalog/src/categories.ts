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
  pgArray,
  violations,
  type EntityManager,
} from "@bazaar/platform";
import { CategorySchema, type Category } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { uuidv7 } from "uuidv7";
import { checkSlug, checkText, etagOf } from "./validation.ts";

export interface CategoryRow {
  id: string;
  parent_id: string | null;
  slug: string;
  name: string;
  path: string;
  version: number;
}

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

const columns = "id, parent_id, slug, name, path, version";

export async function findCategory(em: EntityManager, id: string, lock = false): Promise<CategoryRow> {
  const [row] = await em.execute<CategoryRow[]>(`select ${columns} from category where id = ?${lock ? " for update" : ""}`, [id]);
  if (!row) throw new NotFoundError(`category ${id} not found`);
  return row;
}

/** Category by id or slug (imports name categories either way). */
export async function categoryIdsByKey(em: EntityManager, keys: string[]): Promise<Map<string, string>> {
  const ids = keys.filter(isUuid);
  const rows = await em.execute<{ id: string; slug: string }[]>("select id, slug from category where slug = any(?::text[]) or id = any(?::uuid[])", [pgArray(keys), pgArray(ids)]);
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
  let rows: CategoryRow[];
  if (parentId === "") {
    rows = recursive
      ? await em.execute<CategoryRow[]>(`select ${columns} from category order by path`)
      : await em.execute<CategoryRow[]>(`select ${columns} from category where parent_id is null order by name, id`);
  } else {
    const parent = await findCategory(em, parentId);
    rows = recursive
      ? await em.execute<CategoryRow[]>(`select ${columns} from category where path like ? and id <> ? order by path`, [`${parent.path}%`, parent.id])
      : await em.execute<CategoryRow[]>(`select ${columns} from category where parent_id = ? order by name, id`, [parent.id]);
  }
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
    const [row] = await em.execute<CategoryRow[]>(
      `insert into category (id, parent_id, slug, name, path) values (?, ?, ?, ?, ?) returning ${columns}`,
      [id, parent?.id ?? null, input.slug, input.name.trim(), path],
    );
    return toCategory(row!);
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
    await em.execute("update category set path = ? || substr(path, ?) where path like ? and id <> ?", [path, current.path.length + 1, `${current.path}%`, current.id]);
  }
  try {
    const [row] = await em.execute<CategoryRow[]>(
      `update category set parent_id = ?, slug = ?, name = ?, path = ?, version = version + 1 where id = ? returning ${columns}`,
      [next.parentId === "" ? null : next.parentId, next.slug, next.name.trim(), path, current.id],
    );
    return toCategory(row!);
  } catch (error) {
    slugTaken(error, next.slug);
  }
}

export async function deleteCategory(em: EntityManager, id: string): Promise<void> {
  const v = violations();
  checkUuid(v, "id", id);
  v.throwIfAny();
  const current = await findCategory(em, id, true);
  const [usage] = await em.execute<{ children: string; products: string }[]>(
    "select (select count(*) from category where parent_id = ?) as children, (select count(*) from product where category_id = ?) as products",
    [current.id, current.id],
  );
  if (Number(usage!.children) > 0) throw new FailedPreconditionError("the category has subcategories", { reason: "CATEGORY_NOT_EMPTY" });
  if (Number(usage!.products) > 0) throw new FailedPreconditionError("the category has products (archived ones included)", { reason: "CATEGORY_NOT_EMPTY" });
  await em.execute("delete from category where id = ?", [current.id]);
}
