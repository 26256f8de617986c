// Categories as a tree (depth-first, indented): create under a parent, rename and move (with the
// category's etag), delete an empty one (confirmed).
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { useState, type FormEvent } from "react";
import type { Category } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { ConfirmButton, Refusal, useAction, useLoad, useStaff } from "./ui.tsx";

const slugOf = (name: string) => name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

export function CategoriesPage() {
  const staff = useStaff();
  const tree = useLoad(() => staff.catalog.listCategories({ recursive: true }).then((r) => r.categories), []);
  const action = useAction();
  const [editing, setEditing] = useState<string>();
  const [done, setDone] = useState<string>();
  const categories = tree.data ?? [];

  async function createCategory(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const name = String(form.get("name")).trim();
    const ok = await action.run(() => staff.catalog.createCategory({ category: { name, slug: String(form.get("slug")).trim() || slugOf(name), parentId: String(form.get("parentId")) } }));
    if (ok) {
      setDone(`Created ${name}.`);
      formElement.reset();
      tree.reload();
    }
  }

  return (
    <section>
      <h1>Categories</h1>
      <Refusal error={tree.error ?? action.error} onReload={() => { action.clear(); tree.reload(); }} />
      {done && <p role="status">{done}</p>}
      <ul className="tree" aria-busy={tree.loading}>
        {categories.map((category) => (
          <li key={category.id} className={`depth-${Math.min(category.depth, 6)}`}>
            {editing === category.id ? (
              <CategoryEditor category={category} categories={categories} onDone={(message) => { setEditing(undefined); if (message) setDone(message); tree.reload(); }} />
            ) : (
              <div className="tree-row">
                <span>{category.name}</span> <span className="hint">/{category.slug}</span>
                <button type="button" className="secondary" onClick={() => setEditing(category.id)}>Edit {category.name}</button>
                <ConfirmButton label={`Delete ${category.name}`} question={`Delete the category ${category.name}? Only an empty category can be deleted.`} confirmLabel="Delete category"
                  onConfirm={() => void action.run(async () => { await staff.catalog.deleteCategory({ id: category.id }); setDone(`Deleted ${category.name}.`); tree.reload(); })} />
              </div>
            )}
          </li>
        ))}
        {tree.data && categories.length === 0 && <li>No categories yet.</li>}
      </ul>
      <form onSubmit={createCategory} className="editor">
        <fieldset>
          <legend>New category</legend>
          <p className="field"><label htmlFor="new-category-name">Name</label><input id="new-category-name" name="name" required maxLength={120} /></p>
          <p className="field"><label htmlFor="new-category-slug">Slug</label><input id="new-category-slug" name="slug" pattern="[a-z0-9]+(-[a-z0-9]+)*" aria-describedby="new-slug-hint" /><span id="new-slug-hint" className="hint">Empty: made from the name.</span></p>
          <p className="field">
            <label htmlFor="new-category-parent">Parent</label>
            <select id="new-category-parent" name="parentId" defaultValue="">
              <option value="">None (top level)</option>
              {categories.map((c) => <option key={c.id} value={c.id}>{"— ".repeat(c.depth)}{c.name}</option>)}
            </select>
          </p>
          <button type="submit" disabled={action.busy}>Create category</button>
        </fieldset>
      </form>
    </section>
  );
}

function CategoryEditor({ category, categories, onDone }: { category: Category; categories: Category[]; onDone: (message?: string) => void }) {
  const staff = useStaff();
  const action = useAction();
  // Not under itself or its descendants (the API refuses that too).
  const below = (c: Category) => c.id === category.id || c.ancestorIds.includes(category.id);
  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const ok = await action.run(() =>
      staff.catalog.updateCategory({
        category: { id: category.id, etag: category.etag, name: String(form.get("name")).trim(), slug: String(form.get("slug")).trim(), parentId: String(form.get("parentId")) },
        updateMask: create(FieldMaskSchema, { paths: ["name", "slug", "parent_id"] }),
      }),
    );
    if (ok) onDone(`Saved ${String(form.get("name")).trim()}.`);
  }
  return (
    <form onSubmit={save} className="inline-editor" aria-label={`Edit ${category.name}`}>
      <p className="field"><label htmlFor={`name-${category.id}`}>Name</label><input id={`name-${category.id}`} name="name" required defaultValue={category.name} autoFocus /></p>
      <p className="field"><label htmlFor={`slug-${category.id}`}>Slug</label><input id={`slug-${category.id}`} name="slug" required defaultValue={category.slug} /></p>
      <p className="field">
        <label htmlFor={`parent-${category.id}`}>Parent</label>
        <select id={`parent-${category.id}`} name="parentId" defaultValue={category.parentId}>
          <option value="">None (top level)</option>
          {categories.filter((c) => !below(c)).map((c) => <option key={c.id} value={c.id}>{"— ".repeat(c.depth)}{c.name}</option>)}
        </select>
      </p>
      <Refusal error={action.error} onReload={() => onDone()} />
      <div className="actions">
        <button type="submit" disabled={action.busy}>Save</button>
        <button type="button" className="secondary" onClick={() => onDone()}>Cancel</button>
      </div>
    </form>
  );
}
