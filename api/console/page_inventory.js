// Inventory: every SKU at every warehouse (low stock highlighted), alerts, transfers (start
// one from the form), and the ledger of one SKU.
import { ApiError, get, post } from "./api.js";
import { h, query, table, when } from "./dom.js";
import { t } from "./i18n.js";
import { can } from "./session.js";

function transferForm(result, levels, done) {
  const warehouses = [...new Set(levels.map((l) => l.warehouse))].sort();
  const skus = [...new Set(levels.map((l) => l.sku))].sort();
  const pick = (name, values) => h("select", { name, required: true, testid: `transfer-${name}` },
    values.map((v) => h("option", { value: v }, v)));
  const form = h("form", { class: "filters", testid: "transfer-form", onsubmit: async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(form).entries());
    try {
      const started = await post("/v1/inventory/transfers", { ...data, quantity: Number(data.quantity) });
      result.replaceChildren(h("div", { class: "message ok", testid: "result" }, `${t("done")}: ${started.transfer_id}`));
      done();
    } catch (err) {
      result.replaceChildren(h("div", { class: "message bad", testid: "result" },
        `${t("refused")}: ${err instanceof ApiError ? err.message : err}`));
    }
  } },
  h("label", {}, t("sku"), pick("sku", skus)), h("label", {}, t("from_wh"), pick("from_warehouse", warehouses)),
  h("label", {}, t("to_wh"), pick("to_warehouse", warehouses)),
  h("label", {}, t("quantity"), h("input", { name: "quantity", type: "number", min: 1, required: true, size: 6,
                                            testid: "transfer-quantity" })),
  h("label", {}, t("reason"), h("input", { name: "reason", required: true, testid: "transfer-reason" })),
  h("button", { type: "submit", class: "primary", testid: "transfer-start" }, t("start")));
  return h("div", { class: "panel" }, h("h2", {}, t("new_transfer")), form);
}

async function ledger(box, sku) {
  const data = await get(`/v1/inventory/movements?${query({ sku, limit: 100 })}`);
  box.replaceChildren(h("h2", {}, `${t("ledger")} · ${sku}`), table([
    { label: t("when"), cell: (m) => when(m.created_at) },
    { label: t("warehouse"), cell: (m) => m.warehouse },
    { label: t("kind"), cell: (m) => m.kind },
    { label: t("on_hand"), num: true, cell: (m) => m.on_hand_delta },
    { label: t("reserved"), num: true, cell: (m) => m.reserved_delta },
    { label: t("in_transit"), num: true, cell: (m) => m.in_transit_delta },
    { label: t("defective"), num: true, cell: (m) => m.defective_delta },
    { label: t("reference"), cell: (m) => m.reference },
  ], data.movements));
  box.scrollIntoView();
}

export async function inventoryPage(root, { params }) {
  const sku = params.get("sku") || "";
  const low = params.get("low") === "true";
  const [levels, alerts, transfers] = await Promise.all([
    get(`/v1/inventory/levels?${query({ sku, low: low || "" })}`), get("/v1/inventory/alerts?limit=20"),
    get("/v1/inventory/transfers?limit=20")]);
  const result = h("div", {});
  const ledgerBox = h("div", { class: "panel", testid: "ledger" });
  const filters = h("form", { class: "filters", onsubmit: (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    location.hash = `#/inventory?${query({ sku: data.get("sku"), low: data.get("low") ? "true" : "" })}`;
  } }, h("label", {}, t("sku"), h("input", { name: "sku", value: sku, testid: "filter-sku" })),
  h("label", {}, t("low_only"), h("input", { type: "checkbox", name: "low", checked: low, testid: "filter-low" })),
  h("button", { type: "submit", class: "primary" }, t("search")));
  const rows = levels.levels;
  root.replaceChildren(result, filters,
    h("div", { class: "panel" }, table([
      { label: t("sku"), cell: (l) => h("a", { href: "#", onclick: (e) => { e.preventDefault(); ledger(ledgerBox, l.sku); } },
                                         l.sku) },
      { label: t("name"), cell: (l) => l.name },
      { label: t("warehouse"), cell: (l) => l.warehouse },
      { label: t("on_hand"), num: true, cell: (l) => l.on_hand },
      { label: t("reserved"), num: true, cell: (l) => l.reserved },
      { label: t("safety"), num: true, cell: (l) => l.safety_stock },
      { label: t("available"), num: true, cell: (l) => l.available },
      { label: t("in_transit"), num: true, cell: (l) => l.in_transit },
      { label: t("defective"), num: true, cell: (l) => l.defective },
    ], rows, (l) => ({ class: l.low ? "low" : "", testid: `stock-${l.sku}-${l.warehouse}` }))),
    h("div", { class: "grid2" },
      h("div", { class: "panel", testid: "alerts" }, h("h2", {}, t("alerts")), table([
        { label: t("when"), cell: (a) => when(a.created_at) }, { label: t("kind"), cell: (a) => a.kind },
        { label: t("sku"), cell: (a) => `${a.sku} @ ${a.warehouse}` }, { label: "", cell: (a) => a.detail },
      ], alerts.alerts || [])),
      h("div", { class: "panel", testid: "transfers" }, h("h2", {}, t("transfers")), table([
        { label: "#", cell: (x) => x.transfer_id }, { label: t("sku"), cell: (x) => x.sku },
        { label: t("from_wh"), cell: (x) => x.from_warehouse }, { label: t("to_wh"), cell: (x) => x.to_warehouse },
        { label: t("quantity"), num: true, cell: (x) => x.quantity }, { label: t("status"), cell: (x) => x.status },
      ], transfers.transfers || []))),
    can("inventory:write") ? transferForm(result, rows, () => inventoryPage(root, { params })) : "",
    ledgerBox);
  if (sku && rows.length) await ledger(ledgerBox, rows[0].sku);
}
