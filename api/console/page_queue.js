// 异常处理: everything waiting for a person, by exception type, oldest first. It refreshes
// itself when the queue's fingerprint changes (an order joined or left).
import { addressAction, orderAction, reviewAction } from "./actions.js";
import { get } from "./api.js";
import { age, h, money, table, when } from "./dom.js";
import { status, t } from "./i18n.js";
import { can } from "./session.js";

const FAILED_PARCEL = new Set(["shipment_lost", "shipment_damaged", "shipment_undeliverable", "shipment_late"]);
const POLL_MS = 3000;

function orderActions(result, order, refresh) {
  if (!can("orders:act")) return "";
  const act = (action, label, cls) => h("button", { type: "button", class: cls || "", testid: `${action}-${order.order_id}`,
    onclick: () => orderAction(result, order.order_id, action, refresh) }, t(label));
  return h("div", { class: "actions" },
    FAILED_PARCEL.has(order.exception_type)
      ? [act("release", "release_resend"), act("release_refund", "release_refund")]
      : act("release", "release"),
    h("button", { type: "button", testid: `address-${order.order_id}`,
                  onclick: () => addressAction(result, order.order_id, refresh) }, t("change_address")),
    act("cancel", "cancel", "danger"));
}

function groupView(group, result, refresh) {
  const columns = [
    { label: t("order"), cell: (o) => h("a", { href: `#/order/${encodeURIComponent(o.order_id)}` }, o.order_id) },
    { label: t("age"), cell: (o) => h("span", { title: when(o.waiting_since) }, age(o.waiting_since)) },
    { label: t("ship_by"), cell: (o) => when(o.ship_by) },
    { label: t("tier"), cell: (o) => o.customer_tier },
    { label: t("total"), num: true, cell: (o) => money(o.total, o.currency) },
    { label: t("rule"), cell: (o) => [h("div", {}, (o.rule || []).join(", ") || "—"),
                                      h("div", { class: "small muted" }, o.reason)] },
    { label: t("status"), cell: (o) => h("span", { class: "badge warn" }, status(o.status)) },
  ];
  if (can("orders:act")) columns.push({ label: t("actions"), cell: (o) => orderActions(result, o, refresh) });
  return h("div", { class: "panel", testid: `group-${group.exception_type || "none"}` },
    h("h2", { class: "group-title" }, group.exception_type || "—",
      h("span", { class: "badge bad" }, `${group.count} ${t("waiting")}`)),
    table(columns, group.orders, (o) => ({ testid: `row-${o.order_id}` })));
}

function returnsView(returns, result, refresh) {
  const columns = [
    { label: t("rma"), cell: (r) => r.rma },
    { label: t("order"), cell: (r) => h("a", { href: `#/order/${encodeURIComponent(r.order_id)}` }, r.order_id) },
    { label: t("age"), cell: (r) => age(r.created_at) },
    { label: t("lines"), cell: (r) => r.lines.map((l) => `${l.sku} × ${l.quantity} (${l.reason})`).join("; ") },
    { label: t("notes"), cell: (r) => r.notes.join("; ") },
  ];
  if (can("returns:review")) {
    columns.push({ label: t("actions"), cell: (r) => h("div", { class: "actions" },
      h("button", { type: "button", testid: `approve-${r.rma}`,
                    onclick: () => reviewAction(result, r.rma, true, refresh) }, t("approve")),
      h("button", { type: "button", class: "danger", testid: `reject-${r.rma}`,
                    onclick: () => reviewAction(result, r.rma, false, refresh) }, t("reject"))) });
  }
  return h("div", { class: "panel", testid: "returns-waiting" }, h("h2", {}, t("returns_waiting")),
    table(columns, returns));
}

export async function queuePage(root) {
  const result = h("div", { testid: "result-area" });
  const content = h("div", {});
  const summary = h("p", { class: "muted small", testid: "queue-summary" });
  root.replaceChildren(result, summary, content);
  let fingerprint = "";
  let stopped = false;
  const refresh = async (force = true) => {
    const data = await get("/v1/work-queue");
    if (!force && data.fingerprint === fingerprint) return;
    fingerprint = data.fingerprint;
    summary.textContent = `${data.waiting} ${t("waiting")} · ${t("refresh_note")}`;
    const parts = data.groups.map((g) => groupView(g, result, () => refresh()));
    if (data.returns.length) parts.push(returnsView(data.returns, result, () => refresh()));
    content.replaceChildren(...(parts.length ? parts : [h("div", { class: "panel", testid: "queue-empty" },
      t("no_waiting"))]));
  };
  await refresh();
  const timer = setInterval(() => { if (!stopped) refresh(false).catch(() => {}); }, POLL_MS);
  return () => { stopped = true; clearInterval(timer); };
}
