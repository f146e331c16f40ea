/*
 * Request-body schemas for fastify's Ajv validation, in one compact form. Booleans arrive as
 * JSON booleans or as the strings "true"/"false" (rabbitmqadmin sends those): Ajv's type
 * coercion, which fastify turns on, accepts both and refuses anything else with a 400.
 */

/** JSON-schema snippets for the field types request bodies use. */
export const FIELD = {
  string: { type: "string" },
  boolean: { type: "boolean" },
  object: { type: "object" },
} as const;

/** The route schema for a body that is an object with these fields (and these required). */
export function bodySchema(properties: Record<string, object>, required: string[] = []): object {
  return { body: { type: "object", properties, ...(required.length > 0 ? { required } : {}) } };
}
