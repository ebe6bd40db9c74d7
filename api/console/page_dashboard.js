// 数据分析与报表中心: every figure for a range and filters, with its definition, when it was
// computed, a chart where one reads better than a table, its CSV and the orders behind it.
import { get } from "./api.js";
import { h, query, table, when } from "./dom.js";
import { chart } from "./charts.js";
import { language, t } from "./i18n.js";

function isoDay(date) { return date.toISOString().slice(0, 10); }

function pivot(rows, key, series, value) {
  const labels = [...new Set(rows.map((r) => r[key]))].sort();
  const names = series ? [...new Set(rows.map((r) => r[series]))].sort() : [value];
  return { labels, series: names.map((name) => ({ name, values: labels.map((label) => {
    const row = rows.find((r) => r[key] === label && (!series || r[series] === name));
    return row ? row[value] : null;
  }) })) };
}

const CHARTS = {
  orders_per_day: (rows) => ["bars", pivot(rows, "day", "channel", "orders"), { stacked: true }],
  processing_time: (rows) => {
    const p50 = pivot(rows, "day", null, "p50_hours"), p90 = pivot(rows, "day", null, "p90_hours");
    return ["lines", { labels: p50.labels, series: [...p50.series, ...p90.series] }, {}];
  },
  on_time_ship: (rows) => ["lines", pivot(rows, "day", null, "rate"), {}],
  on_time_delivery: (rows) => ["bars", pivot(rows, "carrier", null, "rate"), {}],
  exceptions: (rows) => ["bars", pivot(rows, "exception_type", null, "count"), {}],
  top_sellers: (rows) => ["bars", pivot(rows.slice(0, 10), "sku", null, "units"), {}],
  customer_value: (rows) => ["bars", pivot(rows, "tier", null, "lifetime_value"), {}],
};

function single(fig) {
  const row = fig.rows[0] || {};
  const rate = fig.kpi.columns.filter((c) => c.endsWith("rate"));
  return h("div", { class: "actions" }, rate.map((c) => h("div", {},
    h("div", { class: "big", testid: `value-${fig.kpi.id}-${c}` }, row[c] === null || row[c] === undefined ? "—"
      : `${(row[c] * 100).toFixed(1)}%`), h("div", { class: "muted small" }, c))));
}

function card(fig, filters) {
  const lang = language();
  const draw = CHARTS[fig.kpi.id];
  const [kind, data, options] = draw && fig.rows.length ? draw(fig.rows) : [null];
  return h("div", { class: "panel kpi", testid: `kpi-${fig.kpi.id}` },
    h("h2", {}, fig.kpi.title[lang]),
    h("div", { class: "def", testid: "definition" }, `${t("definition")}: ${fig.kpi.definition[lang]}`),
    fig.kpi.chart === "none" && fig.rows.length ? single(fig) : "",
    kind ? chart(kind, data.labels, data.series, options) : "",
    fig.rows.length ? h("details", { open: fig.rows.length <= 8 }, h("summary", {}, `${fig.rows.length} rows`),
      table(fig.kpi.columns.map((c) => ({ label: c, num: typeof fig.rows[0][c] === "number",
                                          cell: (r) => (r[c] === null || r[c] === undefined ? "—" : r[c]) })),
      fig.rows, () => ({ testid: `row-${fig.kpi.id}` })))
      : h("p", { class: "muted" }, t("no_data")),
    h("div", { class: "meta" },
      h("span", { testid: "computed" }, `${t("computed")} ${when(fig.computed_at)} (${fig.seconds}s)`),
      h("a", { href: `/v1/dashboard/${fig.kpi.id}/csv?${query(filters)}`, testid: `csv-${fig.kpi.id}` }, t("csv")),
      fig.kpi.id === "slow_movers" ? h("a", { href: "#/inventory" }, t("inventory"))
        : h("a", { href: `#/orders?${query(fig.orders_link)}`, testid: `link-${fig.kpi.id}` }, t("orders_behind"))));
}

export async function dashboardPage(root, { params }) {
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 29 * 86400000);
  const filters = {
    date_from: params.get("date_from") || isoDay(monthAgo), date_to: params.get("date_to") || isoDay(today),
    channel: params.get("channel") || "", warehouse: params.get("warehouse") || "", tier: params.get("tier") || "",
    slow_days: params.get("slow_days") || "30",
  };
  const input = (name, attrs = {}) => h("label", {}, t(name), h("input", { name, value: filters[name],
    testid: `dash-${name}`, size: 10, ...attrs }));
  const form = h("form", { class: "filters", testid: "dashboard-filters", onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/dashboard?${query(Object.fromEntries(new FormData(form).entries()))}`;
  } }, input("date_from", { type: "date" }), input("date_to", { type: "date" }), input("channel"),
  input("warehouse"), input("tier"), input("slow_days", { type: "number", min: 1, max: 365 }),
  h("button", { type: "submit", class: "primary", testid: "dash-apply" }, t("apply")));
  const data = await get(`/v1/dashboard?${query(filters)}`);
  root.replaceChildren(form, h("div", { class: "kpis" }, data.figures.map((f) => card(f, filters))));
}
