// Talking to Ordo's API with the console's session cookie: unsafe methods carry the CSRF
// token, and an expired session is refreshed once before the person is asked to sign in.
function csrf() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("ordo_csrf="));
  return found ? decodeURIComponent(found.split("=")[1]) : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    const fields = (body && Array.isArray(body.errors) ? body.errors : [])
      .map((e) => `${e.field}: ${e.message || e.reason || ""}`).join("; ");
    super([(body && (body.error || body.detail)) || `HTTP ${status}`, fields].filter(Boolean).join(" — "));
    this.status = status;
    this.body = body;
  }
}

let onSignedOut = () => {};
export function whenSignedOut(callback) { onSignedOut = callback; }

async function send(method, path, body) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (!["GET", "HEAD"].includes(method)) headers["x-csrf-token"] = csrf();
  return fetch(path, { method, headers, credentials: "same-origin",
                       body: body === undefined ? undefined : JSON.stringify(body) });
}

export async function api(method, path, body) {
  let resp = await send(method, path, body);
  if (resp.status === 401 && !path.startsWith("/v1/auth/")) {
    const refreshed = await send("POST", "/v1/auth/refresh", {});
    if (refreshed.ok) resp = await send(method, path, body);
  }
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (resp.status === 401 && !path.startsWith("/v1/auth/login")) onSignedOut();
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);
