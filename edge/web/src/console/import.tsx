// CSV import of products: a file (or pasted text) sent to ImportProducts, first as a dry run if
// wanted; the answer's counts and its per-line report of rejected lines as a table.
import { useState, type FormEvent } from "react";
import { ImportFormat, type ImportProductsResponse } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { Refusal, useAction, useStaff } from "./ui.tsx";

export function ImportPage() {
  const staff = useStaff();
  const action = useAction();
  const [report, setReport] = useState<{ answer: ImportProductsResponse; dryRun: boolean }>();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const file = form.get("file");
    const pasted = String(form.get("content") ?? "");
    const dryRun = form.get("validateOnly") === "on";
    setReport(undefined);
    await action.run(async () => {
      const content = file instanceof File && file.size > 0 ? new Uint8Array(await file.arrayBuffer()) : new TextEncoder().encode(pasted);
      const answer = await staff.catalog.importProducts({ format: ImportFormat.CSV, content, validateOnly: dryRun });
      setReport({ answer, dryRun });
    });
  }

  return (
    <section>
      <h1>Import products</h1>
      <p className="hint">
        CSV with a header row, one product with one variant a row: slug, name, description, brand, category (slug or id), status,
        tags and image_urls ("|"-separated), attributes and options ("k=v|k=v"), sku, prices ("USD:1999|EUR:1899"), weight_grams.
        Rows are matched to products by slug; rejected rows change nothing.
      </p>
      <form onSubmit={submit} className="editor">
        <fieldset>
          <legend>CSV</legend>
          <p className="field"><label htmlFor="import-file">File</label><input id="import-file" name="file" type="file" accept=".csv,text/csv" /></p>
          <p className="field"><label htmlFor="import-content">Or paste it</label><textarea id="import-content" name="content" rows={6} /></p>
          <p><label><input type="checkbox" name="validateOnly" /> Only check it (change nothing)</label></p>
          <Refusal error={action.error} />
          <button type="submit" disabled={action.busy}>Import</button>
        </fieldset>
      </form>
      {report && (
        <section aria-labelledby="report-title">
          <h2 id="report-title">{report.dryRun ? "Check" : "Import"} report</h2>
          <p role="status">
            {report.dryRun ? "Would create" : "Created"} {report.answer.created}, {report.dryRun ? "would update" : "updated"} {report.answer.updated}, rejected {report.answer.rejected.length}.
          </p>
          {report.answer.rejected.length > 0 && (
            <table className="data">
              <caption>Rejected lines</caption>
              <thead><tr><th scope="col">Line</th><th scope="col">Field</th><th scope="col">Problem</th></tr></thead>
              <tbody>
                {report.answer.rejected.flatMap((line) =>
                  line.violations.map((v, i) => (
                    <tr key={`${line.line}-${i}`}><td>{line.line}</td><td>{v.field}</td><td>{v.description}</td></tr>
                  )),
                )}
              </tbody>
            </table>
          )}
        </section>
      )}
    </section>
  );
}
