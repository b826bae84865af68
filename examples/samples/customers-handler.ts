import { type RequestContext, type RequestHandler, type ResponderReply } from 'replygate/responder';
import { ResponderError } from 'replygate/responder';
import { resolveOperation, type SampleOperation } from './resolve-operation';

/** A customer of the customers sample. */
export interface Customer {
  id: string;
  name: string;
  email: string;
  tier: 'standard' | 'gold';
}

/** The customers every customers handler starts with. */
export const SEEDED_CUSTOMERS: readonly Customer[] = [
  { id: 'c-1', name: 'Ada Lovelace', email: 'ada@example.com', tier: 'gold' },
  { id: 'c-2', name: 'Grace Hopper', email: 'grace@example.com', tier: 'standard' },
  { id: 'c-3', name: 'Alan Turing', email: 'alan@example.com', tier: 'standard' },
];

const OPERATIONS: readonly SampleOperation<'getCustomer'>[] = [
  { name: 'getCustomer', method: 'GET', path: /^\/customers\/(?<customerId>[^/]+)\/?$/ },
];

/**
 * The customers sample's handler: `getCustomer` (GET /customers/:customerId) answers 200 with a
 * seeded customer ({@link SEEDED_CUSTOMERS}) or 404.
 */
export function createCustomersHandler(): RequestHandler {
  const customers = new Map(SEEDED_CUSTOMERS.map((c) => [c.id, c]));

  return (ctx: RequestContext): ResponderReply => {
    const op = resolveOperation(ctx, OPERATIONS);
    const customerId = op.params['customerId'];
    const customer = customerId === undefined ? undefined : customers.get(customerId);
    if (customer === undefined) {
      throw new ResponderError(
        404,
        `Customer ${customerId ?? '(none)'} not found`,
        { customerId: customerId ?? null },
        { code: 'CUSTOMER_NOT_FOUND' },
      );
    }
    return { body: customer };
  };
}
