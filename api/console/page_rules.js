// Rules: the files in force and their history with diffs, and the what-if: edit or load a
// candidate, see check's problems by line as you type, simulate it over recent orders, publish.
import { ApiError, get, post } from "./api.js";
import { h, table, when } from "./dom.js";
import { t } from "./i18n.js";
import { can } from "./session.js";

function diffView(text, testid) {
  return h("pre", { testid }, text.split("\n").map((line) =>
    h("span", { class: line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "" }, `${line}\n`)));
}

function editor(text, onInput) {
  const gutter = h("div", { class: "gutter", testid: "gutter" });
  const area = h("textarea", { spellcheck: "false", testid: "candidate" });
  area.value = text;
  const numbers = (bad = new Set()) => {
    const count = area.value.split("\n").length;
    gutter.replaceChildren(...Array.from({ length: count }, (_, i) =>
      h("div", { class: bad.has(i + 1) ? "err" : "" }, String(i + 1))));
  };
  area.addEventListener("input", () => { numbers(); onInput(); });
  area.addEventListener("scroll", () => { gutter.scrollTop = area.scrollTop; });
  numbers();
  return { box: h("div", { class: "editor" }, gutter, area), area, mark: numbers };
}

export async function rulesPage(root, { params }) {
  const files = (await get("/v1/rules/files")).files;
  const chosen = files.find((f) => f.ruleset === params.get("ruleset")) || files[0];
  if (!chosen) { root.textContent = t("none"); return; }
  const history = await get(`/v1/rules/history/${encodeURIComponent(chosen.ruleset)}?limit=10`);
  const problems = h("div", { testid: "problems" });
  const diff = h("div", {});
  const outcome = h("div", { testid: "simulation" });
  const result = h("div", {});
  let timer = null;
  const ed = editor(chosen.text, () => { clearTimeout(timer); timer = setTimeout(check, 500); });
  async function check() {
    const found = await post("/v1/rules/check", { text: ed.area.value });
    ed.mark(new Set(found.problems.map((p) => p.line)));
    problems.replaceChildren(found.problems.length
      ? h("div", { class: "message bad" }, h("strong", {}, t("problems")), h("ul", {},
        found.problems.map((p) => h("li", { testid: "problem" }, `${t("line")} ${p.line}:${p.column} ${
          p.rule ? `rule '${p.rule}': ` : ""}${p.message}`))))
      : h("div", { class: "message ok", testid: "check-ok" }, `${t("no_problems")} · ${found.ruleset} @ ${found.version}`));
    diff.replaceChildren(...(found.diff ? [h("h3", {}, `${t("diff")} — ${found.summary}`), diffView(found.diff, "diff")] : []));
    return found;
  }
  const last = h("input", { type: "number", min: 1, value: 500, size: 6, testid: "last-n" });
  const simulate = async () => {
    outcome.replaceChildren(t("loading"));
    try {
      const report = await post("/v1/rules/simulate", { text: ed.area.value, last: Number(last.value) });
      outcome.replaceChildren(
        h("p", { testid: "simulation-summary" }, `${report.orders} ${t("results")}, ${report.decisions} ${t("simulated")}, ${
          report.changed} ${t("would_change")}`),
        table([
          { label: t("rules"), cell: (c) => c.ruleset },
          { label: t("change"), cell: (c) => c.change },
          { label: t("count"), num: true, cell: (c) => c.count },
          { label: t("samples"), cell: (c) => c.samples.map((s) => h("a", { href: `#/order/${encodeURIComponent(s)}` },
            `${s} `)) },
        ], report.changes, () => ({ testid: "change" })));
    } catch (err) {
      outcome.replaceChildren(h("div", { class: "message bad" }, err instanceof ApiError ? err.message : String(err)));
    }
  };
  const reason = h("input", { placeholder: t("reason_needed"), size: 30, testid: "publish-reason" });
  const publish = async () => {
    try {
      const done = await post("/v1/rules/publish", { text: ed.area.value, reason: reason.value });
      result.replaceChildren(h("div", { class: "message ok", testid: "result" },
        `${t("published")}: ${done.ruleset} @ ${done.version} (${done.summary}); ${t("version_live")}`));
    } catch (err) {
      result.replaceChildren(h("div", { class: "message bad", testid: "result" },
        `${t("refused")}: ${err instanceof ApiError ? err.message : err}`));
    }
  };
  const upload = h("input", { type: "file", accept: ".yaml,.yml", testid: "upload", onchange: async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    ed.area.value = await file.text();
    ed.mark();
    await check();
  } });
  root.replaceChildren(result,
    h("div", { class: "filters" }, h("label", {}, t("in_force"), h("select", { testid: "ruleset", onchange: (e) => {
      location.hash = `#/rules?ruleset=${encodeURIComponent(e.target.value)}`; } },
    files.map((f) => h("option", { value: f.ruleset, selected: f.ruleset === chosen.ruleset },
      `${f.ruleset} (${f.file}) @ ${f.version}`))))),
    h("div", { class: "panel" }, h("h2", {}, `${t("candidate")} · ${chosen.file}`), ed.box,
      h("div", { class: "actions", style: undefined },
        h("button", { type: "button", onclick: check, testid: "check" }, t("check")),
        h("label", {}, t("upload"), upload),
        h("label", {}, t("last_n"), last),
        h("button", { type: "button", onclick: simulate, testid: "simulate" }, t("simulate")),
        can("rules:publish") ? [reason, h("button", { type: "button", class: "primary", onclick: publish,
                                                      testid: "publish" }, t("publish"))] : ""),
      problems, diff, outcome),
    h("div", { class: "panel", testid: "history" }, h("h2", {}, t("history")), history.versions.map((v) =>
      h("details", {}, h("summary", {}, `${v.version} · ${when(v.loaded_at)} · ${v.loaded_by} · ${v.summary}`),
        diffView(v.diff, "version-diff")))));
  await check();
}
