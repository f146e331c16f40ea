/**
 * The management HTTP API as the UI calls it: HTTP Basic with the credentials of this browser
 * tab's session (sessionStorage: gone when the tab closes, never written to disk by us), JSON
 * in and out, and RabbitMQ's error bodies turned into ApiError.
 */

const AUTH_KEY = "warren.auth";
const USER_KEY = "warren.user";

/** An answer other than 2xx: the status and RabbitMQ's {"error", "reason"}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    // The reason is the readable part ("inequivalent arg 'durable' ..."); the error code is
    // kept for the code that tells errors apart.
    super(reason || error || `HTTP ${status}`);
  }
}

/** Who is logged in (name and tags), as /api/whoami says. */
export interface WhoAmI {
  name: string;
  tags: string[];
}

/** Called when the API refuses the stored credentials (password changed, user deleted). */
let onLoggedOut: (() => void) | undefined;
export function setLoggedOutHandler(f: () => void): void {
  onLoggedOut = f;
}

function basic(user: string, password: string): string {
  // btoa takes Latin-1: send the UTF-8 bytes of user:password, as curl does.
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

export function storedUser(): string | null {
  return sessionStorage.getItem(AUTH_KEY) ? sessionStorage.getItem(USER_KEY) : null;
}

export function logout(): void {
  sessionStorage.removeItem(AUTH_KEY);
  sessionStorage.removeItem(USER_KEY);
}

/** A path segment: vhost "/" is "%2F", as the API wants it. */
export const seg = (s: string): string => encodeURIComponent(s);

async function request<T>(
  method: string,
  path: string,
  auth: string | null,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<T> {
  const headers: Record<string, string> = { ...extra, "x-requested-with": "XMLHttpRequest" };
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(`api${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "unreachable", "the broker did not answer (is it running?)");
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json ?? {}) as { error?: unknown; reason?: unknown };
    const reason = typeof e.reason === "string" ? e.reason : e.reason ? JSON.stringify(e.reason) : "";
    const err = new ApiError(res.status, String(e.error ?? res.statusText), reason);
    if (res.status === 401 && reason === "Login failed" && auth) {
      logout();
      onLoggedOut?.();
    }
    throw err;
  }
  return json as T;
}

/** Calls the API with the session's credentials (and extra headers, such as X-Reason). */
export function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<T> {
  return request<T>(method, path, sessionStorage.getItem(AUTH_KEY), body, headers);
}

/** GET with the session's credentials. */
export const get = <T>(path: string): Promise<T> => api<T>("GET", path);

/**
 * Checks credentials against /api/whoami and keeps them for this tab's session. Refuses a
 * user without a management tag the way the API does (401 "Not management user").
 */
export async function login(user: string, password: string): Promise<WhoAmI> {
  const auth = basic(user, password);
  const me = await request<WhoAmI>("GET", "/whoami", auth);
  sessionStorage.setItem(AUTH_KEY, auth);
  sessionStorage.setItem(USER_KEY, me.name);
  return me;
}

/** Query string from the defined entries of an object. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
