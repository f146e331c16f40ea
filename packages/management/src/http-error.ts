import { AmqpError, ReplyCode } from "@warren/protocol";

/**
 * An error answered as RabbitMQ's management API answers it: a status code and the body
 * `{"error": ..., "reason": ...}`. Route handlers throw these; the server's error handler
 * writes them.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: unknown,
    /** Extra response headers (www-authenticate on a failed login). */
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof reason === "string" ? reason : error);
  }

  /** 404 as RabbitMQ words it for any missing object. */
  static notFound(): HttpError {
    return new HttpError(404, "Object Not Found", "Not Found");
  }

  static badRequest(reason: unknown): HttpError {
    return new HttpError(400, "bad_request", reason);
  }

  /** 401 for a user who logged in but may not do this (RabbitMQ's wording). */
  static notAuthorised(reason: string): HttpError {
    return new HttpError(401, "not_authorised", reason);
  }

  /**
   * A broker error from an operation: RabbitMQ's API reports a refused name (403) as 401
   * "Access refused.", a missing object as 404, and any other refusal as 400 with the
   * broker's text.
   */
  static fromBroker(e: unknown): HttpError {
    if (e instanceof HttpError) return e;
    if (!(e instanceof AmqpError)) throw e;
    if (e.code === ReplyCode.ACCESS_REFUSED) return HttpError.notAuthorised("Access refused.");
    if (e.code === ReplyCode.NOT_FOUND) return HttpError.notFound();
    return HttpError.badRequest(e.text);
  }
}
