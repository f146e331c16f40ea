/**
 * oslo.messaging's exceptions, with the same names and hierarchy. Each class records the
 * Python module its counterpart lives in (`pythonModule`): when a TypeScript RPC server fails
 * with one of them, the failure it sends names that module and class, so a Python client sees
 * exactly what a Python server would have sent.
 */
export class MessagingException extends Error {
  override name = "MessagingException";
  /** The module of oslo.messaging's class of the same name. */
  readonly pythonModule: string = "oslo_messaging.exceptions";
}

/** A call got no reply in time (the client's timeout, or the call monitor's). */
export class MessagingTimeout extends MessagingException {
  override name = "MessagingTimeout";
}

/** A message could not be sent (the broker refused it, or the connection failed). */
export class MessageDeliveryFailure extends MessagingException {
  override name = "MessageDeliveryFailure";
}

/** A Target lacks what the operation needs (a topic to send, a topic and server to serve). */
export class InvalidTarget extends MessagingException {
  override name = "InvalidTarget";
  constructor(
    message: string,
    /** The offending target. */
    readonly target: unknown,
  ) {
    super(`${message}:${String(target)}`);
  }
}

/** A transport URL oslo.messaging would not accept (scheme, query option, …). */
export class InvalidTransportURL extends MessagingException {
  override name = "InvalidTransportURL";
  override readonly pythonModule = "oslo_messaging.transport";
  /** The URL, its passwords masked. */
  readonly url: string;
  constructor(url: string, reason: string) {
    const masked = url.replace(/(\/\/|,)([^:@/,]*):[^@/,]*@/g, "$1$2:***@");
    super(`Invalid transport URL: ${masked}: ${reason}`);
    this.url = masked;
  }
}

/**
 * A mandatory publish came back unroutable (basic.return): the reply queue of a caller is
 * gone. Not a MessagingException in oslo.messaging either.
 */
export class MessageUndeliverable extends Error {
  override name = "MessageUndeliverable";
  readonly pythonModule: string = "oslo_messaging.exceptions";
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly replyCode: number,
    readonly replyText: string,
  ) {
    super(
      `message to exchange '${exchange}' with routing key '${routingKey}' returned: ${replyCode} ${replyText}`,
    );
  }
}

/**
 * The remote endpoint raised an exception. `excType` is the class name of the remote
 * exception (e.g. "ValueError"), `value` its message and `traceback` the remote traceback
 * lines, as oslo.messaging serializes failures.
 */
export class RemoteError extends MessagingException {
  override name = "RemoteError";
  override readonly pythonModule = "oslo_messaging.rpc.client";
  constructor(
    readonly excType: string,
    readonly value: string,
    readonly traceback: readonly string[] = [],
    /** The Python module of the remote exception's class ("builtins" for ValueError). */
    readonly module = "",
    /** The remote exception's args and kwargs, as serialized. */
    readonly args: readonly unknown[] = [],
    readonly kwargs: Readonly<Record<string, unknown>> = {},
  ) {
    super(`Remote error: ${excType} ${value}\n${traceback.join("")}.`);
  }
}

/** The call's version is above the client's version cap. */
export class RPCVersionCapError extends MessagingException {
  override name = "RPCVersionCapError";
  override readonly pythonModule = "oslo_messaging.rpc.client";
  constructor(
    readonly version: string,
    readonly versionCap: string,
  ) {
    super(
      `Requested message version, ${version} is incompatible.  It needs to be equal in major version ` +
        `and less than or equal in minor version as the specified version cap ${versionCap}.`,
    );
  }
}

/** Base of the errors a server raises itself. */
export class MessagingServerError extends MessagingException {
  override name = "MessagingServerError";
  override readonly pythonModule: string = "oslo_messaging.server";
}

/** Base of the RPC dispatcher's errors. */
export class RPCDispatcherError extends MessagingServerError {
  override name = "RPCDispatcherError";
  override readonly pythonModule: string = "oslo_messaging.rpc.dispatcher";
}

/** No endpoint compatible with the message's namespace and version has the method. */
export class NoSuchMethod extends RPCDispatcherError {
  override name = "NoSuchMethod";
  constructor(readonly method: string) {
    super(`Endpoint does not support RPC method ${method}`);
  }
}

/** No endpoint serves the message's namespace at a compatible version. */
export class UnsupportedVersion extends RPCDispatcherError {
  override name = "UnsupportedVersion";
  constructor(
    readonly version: string,
    readonly method?: string,
  ) {
    super(
      `Endpoint does not support RPC version ${version}` + (method ? `. Attempted method: ${method}` : ""),
    );
  }
}

/** The message envelope's version is not one this side understands (2.x). */
export class UnsupportedRpcEnvelopeVersion extends MessagingException {
  override name = "UnsupportedRpcEnvelopeVersion";
  override readonly pythonModule = "oslo_messaging._drivers.common";
  constructor(readonly version: string) {
    super(`Specified RPC envelope version, ${version}, not supported by this endpoint.`);
  }
}
