// Orders: filters, paging and CSV export; one order's whole story on its own page.
import { addressAction, orderAction } from "./actions.js";
import { get } from "./api.js";
import { h, money, query, table, when } from "./dom.js";
import { status, t } from "./i18n.js";
import { can, consoleSettings } from "./session.js";

const FILTERS = ["order_id", "customer_id", "channel", "status", "priority", "tier", "date_from", "date_to", "sku",
  "warehouse", "min_total", "max_total", "exception_type", "shipped", "refunded"];
const STATUSES = ["received", "validated", "prioritised", "backordered", "reserved", "awaiting_payment",
  "payment_authorised", "fulfilling", "shipped", "in_transit", "out_for_delivery", "delivered", "completed",
  "on_hold", "awaiting_operator", "cancelled"];

function field(name, params, attrs = {}) {
  return h("label", {}, t(name), h("input", { name, value: params.get(name) || "", testid: `filter-${name}`,
                                             size: 12, ...attrs }));
}

export async function ordersPage(root, { params }) {
  const form = h("form", { class: "filters", testid: "order-filters", onsubmit: (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    location.hash = `#/orders?${query({ ...values, page: 1 })}`;
  } },
  field("order_id", params), field("customer_id", params), field("channel", params, { size: 8 }),
  h("label", {}, t("status"), h("select", { name: "status", testid: "filter-status" },
    h("option", { value: "" }, t("any")),
    STATUSES.map((s) => h("option", { value: s, selected: params.get("status") === s }, status(s))))),
  field("priority", params, { size: 8 }), field("tier", params, { size: 8 }),
  field("date_from", params, { type: "date" }), field("date_to", params, { type: "date" }),
  field("sku", params, { size: 10 }), field("warehouse", params, { size: 8 }),
  field("min_total", params, { type: "number", step: "0.01", size: 8 }),
  field("max_total", params, { type: "number", step: "0.01", size: 8 }),
  ["exception_type", "shipped", "refunded"].filter((k) => params.get(k)).map((k) =>
    h("input", { type: "hidden", name: k, value: params.get(k) })),
  h("button", { type: "submit", class: "primary", testid: "search" }, t("search")),
  h("a", { class: "button", href: "#/orders" }, t("reset")));
  const filters = Object.fromEntries(FILTERS.filter((k) => params.get(k)).map((k) => [k, params.get(k)]));
  const page = Number(params.get("page") || 1);
  const data = await get(`/v1/orders/search?${query({ ...filters, page, per_page: 50 })}`);
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  const go = (n) => `#/orders?${query({ ...filters, page: n })}`;
  const columns = [
    { label: t("order"), cell: (o) => h("a", { href: `#/order/${encodeURIComponent(o.order_id)}` }, o.order_id) },
    { label: t("channel"), cell: (o) => o.channel },
    { label: t("status"), cell: (o) => h("span", { class: "badge" }, status(o.status)) },
    { label: t("priority"), cell: (o) => o.priority },
    { label: t("customer"), cell: (o) => o.customer_id },
    { label: t("tier"), cell: (o) => o.customer_tier },
    { label: t("total"), num: true, cell: (o) => money(o.total, o.currency) },
    { label: t("created"), cell: (o) => when(o.created_at) },
    { label: t("ship_by"), cell: (o) => when(o.ship_by) },
  ];
  root.replaceChildren(form,
    h("div", { class: "actions" }, h("span", { class: "muted", testid: "order-count" }, `${data.total} ${t("results")}`),
      can("exports:run") ? h("a", { class: "button", testid: "export", href: `/v1/orders/export.csv?${query(filters)}` },
        t("export_csv")) : ""),
    table(columns, data.rows, (o) => ({ testid: `order-${o.order_id}` })),
    h("div", { class: "pager" },
      page > 1 ? h("a", { class: "button", href: go(page - 1) }, t("prev")) : "",
      h("span", { class: "muted" }, `${t("page")} ${page} ${t("of")} ${pages}`),
      page < pages ? h("a", { class: "button", href: go(page + 1), testid: "next-page" }, t("next")) : ""));
}

function addressView(address) {
  if (!address) return "—";
  return h("div", { testid: "address" },
    h("div", {}, `${address.name || ""} · ${address.phone || ""}`),
    h("div", {}, [address.province, address.city, address.district, address.street].filter(Boolean).join(" ")),
    address.postal_code ? h("div", { class: "muted small" }, address.postal_code) : "");
}

function decisionsView(decisions) {
  if (!decisions.length) return h("p", { class: "muted" }, t("none"));
  return decisions.map((d) => h("div", { class: "panel", testid: "decision" },
    h("strong", {}, `${d.step} · ${d.ruleset} @ ${d.version}`),
    h("div", { class: "small" }, `${t("fired")}: `, (d.fired || []).map((f) => `${f.rule}`).join(", ") || "—"),
    h("div", { class: "small" }, JSON.stringify(d.outcome)),
    (d.not_fired || []).length ? h("details", {}, h("summary", {}, `${t("not_fired")} (${d.not_fired.length})`),
      h("ul", {}, d.not_fired.map((n) => h("li", { class: "small" }, `${n.rule}: ${t("failed_at")} — ${n.failed}`)))) : "",
    h("details", {}, h("summary", {}, t("facts")), h("pre", {}, JSON.stringify(d.facts, null, 2)))));
}

export async function orderPage(root, { arg, params, title }) {
  const id = arg;
  title.textContent = `${t("order")} ${id}`;
  const reveal = params.get("reveal");
  const view = await get(`/v1/orders/${encodeURIComponent(id)}${reveal ? `?reveal=${encodeURIComponent(reveal)}` : ""}`);
  const [timeline, explained, returns] = await Promise.all([
    get(`/v1/orders/${encodeURIComponent(id)}/timeline`),
    get(`/v1/orders/${encodeURIComponent(id)}/explain`),
    can("returns:read") ? get(`/v1/orders/${encodeURIComponent(id)}/returns`) : Promise.resolve({ returns: [] }),
  ]);
  const record = view.record || {};
  const order = view.order || record.payload || {};
  const live = view.workflow || {};
  const result = h("div", { testid: "result-area" });
  const refresh = () => setTimeout(() => orderPage(root, { arg, params, title }), 300);
  const settings = consoleSettings();
  const temporalLink = `${settings.temporal_ui}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${
    encodeURIComponent(view.workflow_id)}`;
  const shipments = (live.shipments && live.shipments.length ? live.shipments : record.shipments || []);
  const payments = record.payment_notifications || [];
  const revealForm = can("pii:read") ? h("form", { class: "actions", onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/order/${encodeURIComponent(id)}?reveal=${new FormData(e.target).get("purpose")}`;
  } }, h("select", { name: "purpose", testid: "purpose" }, ["shipping", "after-sales", "customer-care"].map((p) =>
    h("option", { value: p }, p))), h("button", { type: "submit", testid: "reveal" }, t("reveal"))) :
    h("span", { class: "muted small" }, t("masked_note"));
  const actions = can("orders:act") ? h("div", { class: "actions", testid: "order-actions" },
    ["hold", "release", "cancel"].map((a) => h("button", { type: "button", class: a === "cancel" ? "danger" : "",
      testid: `${a}-${id}`, onclick: () => orderAction(result, id, a, refresh) }, t(a))),
    h("button", { type: "button", testid: `address-${id}`, onclick: () => addressAction(result, id, refresh) },
      t("change_address"))) : "";
  root.replaceChildren(result,
    h("div", { class: "panel" },
      h("div", { class: "actions" },
        h("span", { class: "badge", testid: "order-status" }, status(view.status)),
        h("span", {}, `${t("channel")}: ${record.channel || order.channel || ""}`),
        h("span", {}, `${t("tier")}: ${record.customer_tier || ""}`),
        h("span", {}, `${t("priority")}: ${record.priority || live.priority || ""}`),
        h("span", {}, `${t("total")}: ${money(record.total, record.currency)}`),
        h("span", {}, `${t("ship_by")}: ${when(live.ship_by)}`),
        h("a", { href: temporalLink, target: "_blank", rel: "noopener", testid: "temporal-link" }, t("temporal"))),
      live.exception_reason ? h("p", { class: "message bad" }, `${live.exception_type}: ${live.exception_reason}`) : "",
      actions),
    h("div", { class: "grid2" },
      h("div", { class: "panel" }, h("h2", {}, t("address")), addressView(order.shipping_address), revealForm),
      h("div", { class: "panel" }, h("h2", {}, t("timeline")), h("ul", { class: "timeline", testid: "timeline" },
        timeline.transitions.map((x) => h("li", {}, h("strong", {}, status(x.status)), " ",
          h("span", { class: "muted small" }, when(x.at)), x.exception_type ? ` · ${x.exception_type}` : ""))))),
    h("div", { class: "panel" }, h("h2", {}, t("lines")), table([
      { label: t("sku"), cell: (l) => l.sku },
      { label: t("quantity"), num: true, cell: (l) => l.quantity },
      { label: t("price"), num: true, cell: (l) => money(l.unit_price, record.currency) },
    ], order.lines || [])),
    h("div", { class: "panel" }, h("h2", {}, t("parcels")), table([
      { label: "#", cell: (s) => s.shipment_id },
      { label: t("status"), cell: (s) => status(s.status) },
      { label: t("warehouse"), cell: (s) => s.warehouse || "" },
      { label: t("carrier"), cell: (s) => s.carrier },
      { label: t("waybill"), cell: (s) => s.waybill_no },
      { label: t("tracking"), cell: (s) => (s.events || []).map((e) => `${when(e.at)} ${e.status}`).join("; ") },
    ], shipments, () => ({ testid: "parcel" }))),
    h("div", { class: "panel" }, h("h2", {}, t("payment")), h("ul", { testid: "payment" },
      (live.transitions || []).filter((x) => x.status === "payment_authorised").map(() => h("li", {}, t("authorised"))),
      payments.map((p) => h("li", {}, `${p.trade_status} · ${money(p.total_amount, record.currency)} · ${when(p.created_at)}`)),
      (live.refunds || []).map((r) => h("li", {}, `${t("refunded")}: ${JSON.stringify(r)}`)))),
    h("div", { class: "panel" }, h("h2", {}, t("decisions")), decisionsView(explained.decisions)),
    h("div", { class: "panel" }, h("h2", {}, t("returns")), table([
      { label: t("rma"), cell: (r) => r.rma },
      { label: t("status"), cell: (r) => status(r.status) },
      { label: t("created"), cell: (r) => when(r.created_at) },
    ], returns.returns)));
}
