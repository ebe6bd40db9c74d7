// Who is signed in, what they may do, and what the console knows of this deployment.
let current = null; // {me, settings}

export function setSession(value) { current = value; }
export function session() { return current; }
export function can(permission) {
  return Boolean(current && current.me.permissions.includes(permission));
}
export function consoleSettings() { return current.settings; }
