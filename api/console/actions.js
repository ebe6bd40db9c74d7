// The operator's actions, each asking for a reason and going through the API's own routes
// (the same services, the same refusals). The outcome is shown where the action was taken.
import { ApiError, get, post } from "./api.js";
import { h } from "./dom.js";
import { status, t } from "./i18n.js";

function show(target, ok, text) {
  target.replaceChildren(h("div", { class: `message ${ok ? "ok" : "bad"}`, testid: "result", role: "status" }, text));
}

function dialog(title, fields, onConfirm) {
  const reason = h("textarea", { name: "reason", rows: 2, required: true, testid: "reason",
                                 placeholder: t("reason_needed") });
  const error = h("div", { class: "small", testid: "dialog-error" });
  const box = h("dialog", { testid: "dialog" });
  const form = h("form", { method: "dialog", onsubmit: async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) { error.textContent = t("reason_needed"); return; }
    box.close();
    box.remove();
    await onConfirm(reason.value.trim());
  } }, h("strong", {}, title), fields, h("label", {}, t("reason"), reason), error,
  h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", testid: "confirm" }, t("confirm")),
    h("button", { type: "button", onclick: () => { box.close(); box.remove(); } }, t("close"))));
  box.append(form);
  document.body.append(box);
  box.showModal();
  return box;
}

async function run(target, call, after) {
  try {
    const result = await call();
    if (result && result.accepted === false) show(target, false, `${t("refused")}: ${result.message}`);
    else show(target, true, `${t("done")}: ${result && result.status ? status(result.status) : ""} ${
      result && result.message ? `— ${result.message}` : ""}`);
  } catch (err) {
    show(target, false, `${t("refused")}: ${err instanceof ApiError ? err.message : String(err)}`);
  }
  if (after) after();
}

export function orderAction(target, orderId, action, after) {
  const path = `/v1/orders/${encodeURIComponent(orderId)}`;
  const label = { release: "release", release_refund: "release_refund", cancel: "cancel", hold: "hold" }[action];
  dialog(`${t(label)} · ${orderId}`, [], (reason) => run(target, () => {
    if (action === "release_refund") return post(`${path}/release`, { reason, then: "refund" });
    return post(`${path}/${action}`, { reason });
  }, after));
}

async function choices(select, parent, keep) {
  const data = await get(`/v1/divisions?parent=${encodeURIComponent(parent)}`);
  select.replaceChildren(h("option", { value: "" }, "—"),
    ...data.divisions.map((d) => h("option", { value: d.code, selected: d.name === keep }, d.name)));
}

export async function addressAction(target, orderId, after) {
  const province = h("select", { name: "province", required: true, testid: "province" });
  const city = h("select", { name: "city", required: true, testid: "city" });
  const district = h("select", { name: "district", testid: "district" });
  const input = (name, attrs = {}) => h("input", { name, testid: name, ...attrs });
  const name = input("name", { required: true, autocomplete: "off" });
  const phone = input("phone", { required: true, minlength: 5, autocomplete: "off" });
  const street = input("street", { required: true, autocomplete: "off" });
  const postal = input("postal_code", { autocomplete: "off" });
  await choices(province, "");
  province.addEventListener("change", async () => {
    await choices(city, province.value);
    district.replaceChildren();
  });
  city.addEventListener("change", () => choices(district, city.value));
  const text = (select) => (select.value ? select.selectedOptions[0].textContent : "");
  dialog(`${t("change_address")} · ${orderId}`, [
    h("div", { class: "row" }, h("label", {}, t("name"), name), h("label", {}, t("phone"), phone)),
    h("div", { class: "row" }, h("label", {}, t("province"), province), h("label", {}, t("city"), city),
      h("label", {}, t("district"), district)),
    h("label", {}, t("street"), street), h("label", {}, t("postal_code"), postal),
  ], (reason) => run(target, () => post(
    `/v1/orders/${encodeURIComponent(orderId)}/address?reason=${encodeURIComponent(reason)}`,
    { name: name.value, phone: phone.value, province: text(province), city: text(city),
      district: text(district), street: street.value, postal_code: postal.value }), after));
}

export function reviewAction(target, rma, approve, after) {
  dialog(`${t(approve ? "approve" : "reject")} · ${rma}`, [], (reason) => run(target,
    () => post(`/v1/returns/${encodeURIComponent(rma)}/review`, { approve, reason }), after));
}
