/** What every operation of the contract has (`OPERATIONS` in @latchkey/contract). */
interface Operation {
  method: string;
  path: string;
  schema: object;
}

/**
 * The Fastify route fields of a contract operation: its method, URL and schema, so a route cannot
 * be registered at another path or with another schema than the contract's. Spread it into
 * `app.route({...})` of an instance with the json-schema-to-ts type provider, and the handler is
 * type-checked against the operation's body, params and answers.
 *
 * @example
 * app.route({ ...route(OPERATIONS.logIn), handler: async (request) => ... });
 */
export function route<const O extends Operation>(
  operation: O,
): { method: O['method']; url: O['path']; schema: O['schema'] } {
  return { method: operation.method, url: operation.path, schema: operation.schema };
}
