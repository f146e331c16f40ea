import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, login, type WhoAmI } from "../api.js";
import { ErrorNote } from "../components/notice.js";

/**
 * The login form: checked against /api/whoami, kept for this tab's session only. A user
 * without a management tag gets the API's "Not management user".
 */
export function Login({ onLogin, message }: { onLogin: (me: WhoAmI) => void; message?: string }) {
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const user = useRef<HTMLInputElement>(null);
  useEffect(() => user.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setBusy(true);
    setError(undefined);
    try {
      onLogin(await login(String(data.get("username")), String(data.get("password"))));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <main class="login" id="main">
      <form class="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <div class="brand big" aria-hidden="true">
          <Logo />
        </div>
        <h1 id="login-title">Sign in to Warren</h1>
        {message ? (
          <p class="note" role="status">
            {message}
          </p>
        ) : null}
        <label class="field">
          <span>Username</span>
          <input ref={user} name="username" autocomplete="username" required />
        </label>
        <label class="field">
          <span>Password</span>
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <ErrorNote error={loginError(error)} />
        <button type="submit" class="primary wide" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p class="muted small">
          Your credentials are kept in this browser tab until you log out or close it.
        </p>
      </form>
    </main>
  );
}

/** Warren's mark: a burrow of three tunnels. */
export function Logo() {
  return (
    <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="var(--accent)" />
      <path
        d="M7 22c0-6 4-11 9-11s9 5 9 11"
        fill="none"
        stroke="#fff"
        stroke-width="2.5"
        stroke-linecap="round"
      />
      <path
        d="M12 22c0-3 1.8-5.5 4-5.5s4 2.5 4 5.5"
        fill="none"
        stroke="#fff"
        stroke-width="2.5"
        stroke-linecap="round"
      />
    </svg>
  );
}

/** The API's refusals in words an operator acts on. */
function loginError(e: unknown): unknown {
  if (!(e instanceof ApiError) || e.status !== 401) return e;
  if (e.reason === "Not management user") {
    return "This user may not use the management UI: it needs one of the tags administrator, monitoring, management or policymaker.";
  }
  return "Wrong username or password (guest can only log in from the broker's own machine).";
}
