// The console's shell: sign-in, the navigation a role may use, the language switch, and a
// hash router (#/queue, #/orders, #/order/<id>, #/inventory, #/rules, #/dashboard).
import { ApiError, get, post, whenSignedOut } from "./api.js";
import { h } from "./dom.js";
import { language, setLanguage, t } from "./i18n.js";
import { dashboardPage } from "./page_dashboard.js";
import { inventoryPage } from "./page_inventory.js";
import { orderPage, ordersPage } from "./page_orders.js";
import { queuePage } from "./page_queue.js";
import { rulesPage } from "./page_rules.js";
import { can, session, setSession } from "./session.js";

const PAGES = [
  { path: "queue", label: "queue", needs: "orders:read", render: queuePage },
  { path: "orders", label: "orders", needs: "orders:read", render: ordersPage },
  { path: "inventory", label: "inventory", needs: "inventory:read", render: inventoryPage },
  { path: "rules", label: "rules", needs: "rules:read", render: rulesPage },
  { path: "dashboard", label: "dashboard", needs: "orders:read", render: dashboardPage },
];

const app = document.getElementById("app");
let stopPage = null;

function route() {
  const [path, qs] = (location.hash.replace(/^#\/?/, "") || "queue").split("?");
  const [name, ...rest] = path.split("/");
  return { name, arg: decodeURIComponent(rest.join("/")), params: new URLSearchParams(qs || "") };
}

function loginView(message) {
  const user = h("input", { name: "username", autocomplete: "username", required: true, testid: "username" });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true,
                            testid: "password" });
  const note = h("div", { class: message ? "message bad" : "", testid: "login-message" }, message || "");
  const form = h("form", { class: "login", testid: "login", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await post("/v1/auth/login", { username: user.value, password: pass.value });
      await start();
    } catch (err) {
      note.className = "message bad";
      note.textContent = `${t("signin_failed")}: ${err.message}`;
    }
  } },
  h("h1", {}, "Ordo"), note,
  h("label", {}, t("username"), user), h("label", {}, t("password"), pass),
  h("button", { class: "primary", type: "submit", testid: "signin" }, t("signin")),
  languageButton());
  app.replaceChildren(form);
  user.focus();
}

function languageButton() {
  return h("button", { type: "button", testid: "language", onclick: () => {
    setLanguage(language() === "zh" ? "en" : "zh");
    if (session()) render(); else loginView();
  } }, t("language"));
}

async function render() {
  if (stopPage) { stopPage(); stopPage = null; }
  const { name, arg, params } = route();
  const allowed = PAGES.filter((p) => can(p.needs));
  const page = name === "order" ? { path: "orders", render: orderPage, needs: "orders:read" }
    : allowed.find((p) => p.path === name) || allowed[0];
  const nav = h("nav", { class: "side" }, h("div", { class: "brand" }, "Ordo"),
    allowed.map((p) => h("a", { href: `#/${p.path}`, class: p.path === page?.path ? "active" : "",
                                testid: `nav-${p.path}` }, t(p.label))));
  const title = h("h1", { testid: "page-title" }, page ? t(page.label || "orders") : "");
  const main = h("main", {}, h("header", { class: "top" }, title,
    h("span", { class: "who", testid: "who" }, `${session().me.subject} · ${session().me.role}`),
    languageButton(),
    h("button", { type: "button", testid: "signout", onclick: async () => {
      try { await post("/v1/auth/logout", {}); } finally { setSession(null); loginView(); }
    } }, t("signout"))));
  const body = h("div", { testid: "page" }, t("loading"));
  main.append(body);
  app.replaceChildren(h("div", { class: "shell" }, nav, main));
  if (!page) { body.textContent = "—"; return; }
  try {
    stopPage = (await page.render(body, { arg, params, title })) || null;
  } catch (err) {
    body.replaceChildren(h("div", { class: "message bad", testid: "error" }, err.message));
  }
}

async function start() {
  try {
    const me = await get("/v1/auth/me");
    const settings = await get("/v1/console/settings");
    setSession({ me, settings });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { loginView(); return; }
    throw err;
  }
  render();
}

whenSignedOut(() => { setSession(null); loginView(); });
window.addEventListener("hashchange", () => { if (session()) render(); });
setLanguage(language());
start();
