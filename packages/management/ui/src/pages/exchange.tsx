import { api, get, seg } from "../api.js";
import { AddBinding, BindingTable } from "../components/bindings.js";
import { FeatureTags } from "../components/feature-tags.js";
import { ConfirmButton } from "../components/confirm-button.js";
import { KvTable, entries } from "../components/kv-table.js";
import { ErrorNote, StatusNote } from "../components/notice.js";
import { PublishForm } from "../components/publish-form.js";
import { href, navigate } from "../router.js";
import type { BindingJson, ExchangeJson } from "../types.js";
import { useAction } from "../use-action.js";
import { usePoll } from "../use-poll.js";

/** One exchange: details, bindings out (it is the source) and in, publish, delete. */
export function ExchangePage({ vhost, name }: { vhost: string; name: string }) {
  // "amq.default" in the path is the default exchange, whose name is "".
  const real = name === "amq.default" ? "" : name;
  const path = `/exchanges/${seg(vhost)}/${seg(name)}`;
  const { data, error, reload } = usePoll(async () => {
    const [x, out, into] = await Promise.all([
      get<ExchangeJson>(path),
      get<BindingJson[]>(`${path}/bindings/source`),
      get<BindingJson[]>(`${path}/bindings/destination`),
    ]);
    return { x, out, into };
  }, path);
  const action = useAction();
  const x = data?.x;
  const builtIn = real === "" || real.startsWith("amq.");
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href("exchanges")}>Exchanges</a> <span aria-hidden="true">/</span> <span>{vhost}</span>
      </nav>
      <div class="page-head">
        <h1 tabIndex={-1}>
          <span class="muted">Exchange</span> {real === "" ? "(AMQP default)" : real}
        </h1>
        <div class="actions">
          {builtIn ? null : (
            <ConfirmButton
              label="Delete exchange"
              question={`Delete exchange ${real} and its bindings?`}
              disabled={!x || action.busy}
              onConfirm={() =>
                void action.run(
                  () => api("DELETE", path),
                  undefined,
                  () => navigate("exchanges"),
                )
              }
            />
          )}
        </div>
      </div>
      <ErrorNote error={action.error} />
      <StatusNote>{action.done}</StatusNote>
      <ErrorNote error={error} prefix="Could not refresh" />
      {x && data ? (
        <>
          <section class="card">
            <h2>Details</h2>
            <KvTable
              rows={[
                ["Virtual host", x.vhost],
                ["Type", x.type],
                ["Features", <FeatureTags o={x} />],
                ...entries(x.arguments).map(([k, v]) => [`Argument ${k}`, v] as [string, unknown]),
              ]}
            />
          </section>
          <div class="grid two">
            <section class="card">
              <h2>Bindings from this exchange</h2>
              {real === "" ? (
                <p class="muted">
                  The default exchange routes to every queue by its name; its bindings are implicit.
                </p>
              ) : (
                <>
                  <BindingTable
                    bindings={data.out}
                    show="destination"
                    onChange={reload}
                    caption="Bindings from this exchange"
                  />
                  <h3>Add a binding from this exchange</h3>
                  <AddBinding vhost={vhost} source={real} onAdded={reload} />
                </>
              )}
            </section>
            <section class="card">
              <h2>Bindings to this exchange</h2>
              <BindingTable
                bindings={data.into}
                show="source"
                onChange={reload}
                caption="Bindings to this exchange"
              />
            </section>
          </div>
          <section class="card">
            <h2>Publish a message</h2>
            <PublishForm vhost={vhost} exchange={real} />
          </section>
        </>
      ) : error ? null : (
        <p class="empty">Loading…</p>
      )}
    </>
  );
}
