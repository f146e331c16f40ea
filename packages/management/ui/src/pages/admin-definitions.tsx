import { useState } from "preact/hooks";
import { api, get, seg } from "../api.js";
import { ErrorNote, StatusNote } from "../components/notice.js";
import { VhostSelect } from "../components/vhost-select.js";
import { useAction } from "../use-action.js";

/** Saves text as a file through a temporary object URL (no server round trip). */
function download(name: string, body: string): void {
  const url = URL.createObjectURL(new Blob([body], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Export (download) and import (upload) of definitions, for the whole broker or one vhost. */
export function Definitions() {
  const [vhost, setVhost] = useState("");
  const exporting = useAction();
  const importing = useAction();
  const path = vhost ? `/definitions/${seg(vhost)}` : "/definitions";
  const doExport = () =>
    void exporting.run(async () => {
      const defs = await get<unknown>(path);
      const date = new Date().toISOString().slice(0, 10);
      const file = `warren-definitions${vhost ? `-${vhost.replace(/[^\w.-]+/g, "_")}` : ""}-${date}.json`;
      download(file, JSON.stringify(defs, null, 2));
      return `Downloaded ${file}.`;
    });
  const doImport = importing.submit(async (_f, form) => {
    const file = (form.elements.namedItem("file") as HTMLInputElement).files?.[0];
    if (!file) throw new Error("Choose a definitions file first.");
    let defs: unknown;
    try {
      defs = JSON.parse(await file.text());
    } catch {
      throw new Error(`${file.name} is not JSON.`);
    }
    await api("POST", path, defs);
    return `Imported ${file.name}${vhost ? ` into ${vhost}` : ""}.`;
  });
  return (
    <>
      <section class="card">
        <h2>Scope</h2>
        <VhostSelect value={vhost} onChange={setVhost} id="definitions-vhost" />
        <p class="muted small">
          The whole broker (users, vhosts, permissions, exchanges, queues, bindings) or one virtual host (its
          exchanges, queues and bindings).
        </p>
      </section>
      <div class="grid two">
        <section class="card">
          <h2>Export</h2>
          <p class="muted small">A definitions.json that RabbitMQ and Warren both import.</p>
          <ErrorNote error={exporting.error} prefix="Not exported" />
          <StatusNote>{exporting.done}</StatusNote>
          <button type="button" class="primary" disabled={exporting.busy} onClick={doExport}>
            Download definitions
          </button>
        </section>
        <form class="card form" onSubmit={doImport} aria-labelledby="import-title">
          <h2 id="import-title">Import</h2>
          <p class="muted small">What the file names is created or updated; nothing else is removed.</p>
          <label class="field">
            <span>Definitions file</span>
            <input name="file" type="file" accept=".json,application/json" required />
          </label>
          <ErrorNote error={importing.error} prefix="Not imported" />
          <StatusNote>{importing.done}</StatusNote>
          <button type="submit" class="primary" disabled={importing.busy}>
            Upload and import
          </button>
        </form>
      </div>
    </>
  );
}
