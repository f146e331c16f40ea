import { useEffect, useRef, useState } from "preact/hooks";
import { get, logout, setLoggedOutHandler, storedUser, type WhoAmI } from "./api.js";
import { Admin } from "./pages/admin.js";
import { Channels } from "./pages/channels.js";
import { ConnectionPage } from "./pages/connection.js";
import { Connections } from "./pages/connections.js";
import { ExchangePage } from "./pages/exchange.js";
import { Exchanges } from "./pages/exchanges.js";
import { Login, Logo } from "./pages/login.js";
import { Overview } from "./pages/overview.js";
import { QueuePage } from "./pages/queue.js";
import { Queues } from "./pages/queues.js";
import { href, useRoute } from "./router.js";

const NAV: [string, string][] = [
  ["overview", "Overview"],
  ["connections", "Connections"],
  ["channels", "Channels"],
  ["exchanges", "Exchanges"],
  ["queues", "Queues"],
  ["admin", "Admin"],
];

/**
 * The shell: the login form until the API accepts the credentials, then the navigation and
 * the page the hash names. On each change of page the page's heading takes the focus, so a
 * screen reader announces where the user is and Tab continues from there.
 */
export function App() {
  const [me, setMe] = useState<WhoAmI | undefined>(undefined);
  const [checking, setChecking] = useState(storedUser() !== null);
  const [message, setMessage] = useState("");
  const route = useRoute();

  useEffect(() => {
    setLoggedOutHandler(() => {
      setMe(undefined);
      setMessage("Your session ended: the broker no longer accepts these credentials.");
    });
    // A reload keeps the session's credentials: check them again.
    if (storedUser() !== null) {
      get<WhoAmI>("/whoami").then(
        (w) => {
          setMe(w);
          setChecking(false);
        },
        () => setChecking(false),
      );
    }
  }, []);

  const page = route[0] ?? "overview";
  const routeKey = route.join("/");
  const first = useRef(true);
  useEffect(() => {
    if (!me) return;
    const h1 = document.querySelector<HTMLElement>("main h1");
    document.title = h1?.textContent ? `${h1.textContent} · Warren` : "Warren";
    if (first.current) first.current = false;
    else h1?.focus();
  }, [routeKey, me]);

  if (checking) return <p class="empty">Loading…</p>;
  if (!me) {
    return (
      <Login
        message={message}
        onLogin={(w) => {
          setMessage("");
          setMe(w);
        }}
      />
    );
  }
  const admin = me.tags.includes("administrator");
  const nav = NAV.filter(([p]) => p !== "admin" || admin);
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href("overview")}>
          <Logo />
          <span>Warren</span>
        </a>
        <nav aria-label="Main">
          <ul>
            {nav.map(([p, label]) => (
              <li key={p}>
                <a href={href(p)} aria-current={page === p ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span title={me.tags.join(", ")}>
            <span class="sr-only">Logged in as </span>
            {me.name}
          </span>
          <button
            type="button"
            onClick={() => {
              logout();
              setMe(undefined);
              setMessage("You have logged out.");
              location.hash = "";
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} admin={admin} />
      </main>
    </>
  );
}

function Page({ route, admin }: { route: string[]; admin: boolean }) {
  const [page, a, b] = route;
  switch (page ?? "overview") {
    case "overview":
      return <Overview />;
    case "queues":
      return a !== undefined && b !== undefined ? <QueuePage vhost={a} name={b} /> : <Queues />;
    case "exchanges":
      return a !== undefined && b !== undefined ? <ExchangePage vhost={a} name={b} /> : <Exchanges />;
    case "connections":
      return a !== undefined ? <ConnectionPage name={a} /> : <Connections />;
    case "channels":
      return <Channels />;
    case "admin":
      if (admin) return <Admin tab={a ?? "users"} />;
      break;
  }
  return (
    <>
      <h1 tabIndex={-1}>Not found</h1>
      <p>
        There is no page here. <a href={href("overview")}>Go to the overview</a>.
      </p>
    </>
  );
}
