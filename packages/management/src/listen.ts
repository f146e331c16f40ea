import type { FastifyInstance } from "fastify";

/**
 * Listens on host, or on all interfaces as RabbitMQ does: "::" (IPv4 too on a dual-stack
 * system), falling back to "0.0.0.0" only where IPv6 is unavailable. Resolves with the port.
 */
export async function listen(app: FastifyInstance, port: number, host: string | undefined): Promise<number> {
  if (host !== undefined) await app.listen({ port, host });
  else {
    try {
      await app.listen({ port, host: "::" });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== "EAFNOSUPPORT" && code !== "EADDRNOTAVAIL") throw e;
      await app.listen({ port, host: "0.0.0.0" });
    }
  }
  const addr = app.server.address();
  return typeof addr === "object" && addr ? addr.port : port;
}
