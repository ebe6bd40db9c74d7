// Small SVG charts drawn from the dashboard's rows: bars for counts, lines for rates and times.
const NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f5fbf", "#e07a1f", "#2f9e44", "#c2255c", "#6741d9", "#0c8599", "#868e96", "#b08900"];

function el(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// series: [{name, points: [[x label, y]]}]; stacked bars when `stacked`.
export function chart(kind, labels, series, { stacked = false } = {}) {
  const W = 560, H = 180, L = 40, B = 22, T = 8;
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img" });
  const totals = labels.map((_, i) => stacked
    ? series.reduce((s, x) => s + (x.values[i] || 0), 0)
    : Math.max(0, ...series.map((x) => x.values[i] || 0)));
  const max = Math.max(1e-9, ...totals);
  const y = (v) => H - B - (v / max) * (H - B - T);
  const step = (W - L) / Math.max(1, labels.length);
  for (const frac of [0, 0.5, 1]) {
    svg.append(el("line", { x1: L, x2: W, y1: y(max * frac), y2: y(max * frac), stroke: "#e5e9f0" }));
    svg.append(el("text", { x: L - 4, y: y(max * frac) + 3, "text-anchor": "end" },
      Number((max * frac).toPrecision(3)).toString()));
  }
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, i) => {
    if (i % every === 0) svg.append(el("text", { x: L + step * i + step / 2, y: H - 6, "text-anchor": "middle" },
      String(label).slice(-5)));
  });
  if (kind === "bars") {
    const base = labels.map(() => 0);
    series.forEach((s, k) => {
      const width = stacked ? step * 0.7 : (step * 0.7) / series.length;
      s.values.forEach((v, i) => {
        if (!v) return;
        const x = L + step * i + step * 0.15 + (stacked ? 0 : width * k);
        const top = y(base[i] + v);
        svg.append(el("rect", { x, y: top, width: Math.max(1, width), height: y(base[i]) - top,
                                fill: PALETTE[k % PALETTE.length] }, undefined));
        if (stacked) base[i] += v;
      });
    });
  } else {
    series.forEach((s, k) => {
      const pts = s.values.map((v, i) => (v === null || v === undefined ? null : `${L + step * i + step / 2},${y(v)}`))
        .filter(Boolean);
      svg.append(el("polyline", { points: pts.join(" "), fill: "none", stroke: PALETTE[k % PALETTE.length],
                                  "stroke-width": 2 }));
    });
  }
  const legend = document.createElement("div");
  legend.className = "legend";
  series.forEach((s, k) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = PALETTE[k % PALETTE.length];
    item.append(swatch, s.name);
    legend.append(item);
  });
  const wrap = document.createElement("div");
  wrap.append(svg, legend);
  return wrap;
}
