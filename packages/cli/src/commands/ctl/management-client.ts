import { CtlError } from "./ctl-error.js";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";

/** Where and as whom to connect: the global flags once commander has applied the environment. */
export interface ConnectionOptions {
  url?: string | undefined;
  host: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
  /** Seconds to wait for each answer. */
  timeout: number;
}

/** Per-request choices. */
export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses that are answers rather than failures (503 from a failing health check). */
  accept?: readonly number[];
  /** What a 404 means here: the message, and the exit code (default 65, EX_DATAERR). */
  notFound?: string;
  notFoundCode?: ExitCodeValue;
}

/** A JSON object from the API. */
export type Json = Record<string, unknown>;

/** RabbitMQ HTML-escapes the reasons in its error bodies; a terminal wants them plain. */
const ENTITIES: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&amp;": "&",
  "&quot;": '"',
  "&#39;": "'",
};

/**
 * A client of the RabbitMQ management HTTP API (Warren's or RabbitMQ's) over Node's fetch. It
 * turns every failure into a CtlError carrying the exit code scripts can test: no answer at
 * the address 69, a timeout 75, a refused login 77, a missing object 65 (or 67 for a user),
 * a refused request 65.
 */
export class ManagementClient {
  /** The API's root, such as http://localhost:15672, without a trailing slash. */
  readonly base: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;

  /** --url wins over --host/--port; --username/--password win over the URL's credentials. */
  constructor(o: ConnectionOptions) {
    let url: URL;
    try {
      url = new URL(o.url ?? `http://${o.host.includes(":") ? `[${o.host}]` : o.host}:${o.port}`);
    } catch {
      throw new CtlError(`not a URL: ${o.url ?? o.host}`, ExitCode.USAGE);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new CtlError(`--url must be http:// or https://, got ${url.protocol}`, ExitCode.USAGE);
    }
    const username = o.username ?? (url.username ? decodeURIComponent(url.username) : "guest");
    const password = o.password ?? (url.password ? decodeURIComponent(url.password) : "guest");
    url.username = "";
    url.password = "";
    this.base = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    this.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    this.timeoutMs = o.timeout * 1000;
  }

  /** An API path from raw segments: each is percent-encoded, so vhost "/" becomes %2F. */
  static path(...segments: string[]): string {
    return `/api/${segments.map(encodeURIComponent).join("/")}`;
  }

  /** GET: the parsed body. */
  async get(path: string, opts: RequestOptions = {}): Promise<unknown> {
    return (await this.request("GET", path, opts)).body;
  }

  /** Sends one request; resolves with the status and the parsed JSON body (undefined if empty). */
  async request(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { authorization: this.authorization, ...opts.headers };
    let payload: string | undefined;
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(opts.body);
    }
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      throw this.networkError(e);
    }
    const status = res.status;
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      if (res.ok)
        throw new CtlError(`${method} ${path}: answer is not JSON (HTTP ${status})`, ExitCode.SOFTWARE);
      body = text;
    }
    if (res.ok || opts.accept?.includes(status)) return { status, body };
    throw this.statusError(method, path, status, body, opts);
  }

  /** A fetch that got no answer: nothing listening, no such host, or too slow. */
  private networkError(e: unknown): CtlError {
    const err = e as {
      name?: string;
      cause?: { code?: string; message?: string; errors?: { code?: string }[] };
    };
    if (err.name === "TimeoutError" || err.name === "AbortError") {
      return new CtlError(`no answer from ${this.base} within ${this.timeoutMs / 1000} s`, ExitCode.TEMPFAIL);
    }
    // "localhost" tries ::1 and 127.0.0.1; Node then reports an AggregateError of both.
    const cause = err.cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code;
    // Fetch refuses some ports outright (1, 6000, ...): its cause then has only a message.
    const why = code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    return new CtlError(`cannot reach the management API at ${this.base}: ${why}`, ExitCode.UNAVAILABLE);
  }

  private statusError(method: string, path: string, status: number, body: unknown, opts: RequestOptions) {
    const b = (typeof body === "object" && body !== null ? body : {}) as Json;
    const raw = b.reason ?? b.error ?? (typeof body === "string" ? body.trim().slice(0, 200) : "");
    const reason = (typeof raw === "string" ? raw : JSON.stringify(raw))
      .replace(/&(lt|gt|amp|quot|#39);/g, (m) => ENTITIES[m] ?? m)
      .trim()
      // One line: RabbitMQ's validation reasons come as "Validation failed\n\n<details>".
      .replace(/\s*\n\s*/g, ": ");
    const detail = `${reason} (HTTP ${status}${typeof b.error === "string" ? ` ${b.error}` : ""})`;
    if (status === 401 || status === 403) return new CtlError(detail, ExitCode.NOPERM);
    if (status === 404) {
      return new CtlError(
        opts.notFound ?? `${method} ${path}: not found`,
        opts.notFoundCode ?? ExitCode.DATAERR,
      );
    }
    if (status === 400 || status === 405 || status === 409 || status === 412 || status === 422) {
      return new CtlError(detail, ExitCode.DATAERR);
    }
    if (status >= 500) return new CtlError(`server error: ${detail}`, ExitCode.UNAVAILABLE);
    return new CtlError(`${method} ${path}: unexpected ${detail}`, ExitCode.SOFTWARE);
  }
}
