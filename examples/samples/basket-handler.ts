import { z } from 'zod';
import { type RequestContext, type RequestHandler, type ResponderReply } from 'replygate/responder';
import { ResponderError } from 'replygate/responder';
import { resolveOperation, type SampleOperation } from './resolve-operation';
import { validationError } from './validation-error';

/** Body of `addToBasket`. */
export const addToBasketSchema = z.object({
  sku: z.string().min(1).max(64),
  qty: z.number().int().positive().max(10_000),
});

/** A customer's basket as the basket sample returns it. */
export interface Basket {
  customerId: string;
  items: { sku: string; qty: number }[];
}

/** Options of {@link createBasketHandler}. */
export interface BasketHandlerOptions {
  /** Baskets kept in memory; the least recently changed is forgotten beyond this. @defaultValue 100000 */
  maxBaskets?: number;
}

const OPERATIONS: readonly SampleOperation<'getBasket' | 'addToBasket'>[] = [
  { name: 'getBasket', method: 'GET', path: /^\/baskets\/(?<customerId>[^/]+)\/?$/ },
  { name: 'addToBasket', method: 'POST', path: /^\/baskets\/(?<customerId>[^/]+)\/items\/?$/ },
];

/**
 * The basket sample's handler, with its own in-memory baskets.
 * `getBasket` (GET /baskets/:customerId) answers 200 with the basket, empty for a customer it has
 * not seen; `addToBasket` (POST /baskets/:customerId/items, body `{ sku, qty }`) adds to the line
 * of that sku (422 naming bad fields) and answers 200 with the updated basket.
 */
export function createBasketHandler(options: BasketHandlerOptions = {}): RequestHandler {
  const maxBaskets = options.maxBaskets ?? 100_000;
  /** customerId → sku → qty; Map order keeps lines in the order they were first added. */
  const baskets = new Map<string, Map<string, number>>();

  const view = (customerId: string, lines: Map<string, number> | undefined): Basket => ({
    customerId,
    items: lines === undefined ? [] : [...lines].map(([sku, qty]) => ({ sku, qty })),
  });

  return (ctx: RequestContext): ResponderReply => {
    const op = resolveOperation(ctx, OPERATIONS);
    const customerId = op.params['customerId'];
    if (customerId === undefined || customerId === '') {
      throw new ResponderError(400, 'Path parameter customerId is missing', undefined, { code: 'BAD_REQUEST' });
    }
    if (op.name === 'getBasket') return { body: view(customerId, baskets.get(customerId)) };

    const parsed = addToBasketSchema.safeParse(ctx.json());
    if (!parsed.success) throw validationError(parsed.error);
    let lines = baskets.get(customerId);
    if (lines === undefined) {
      lines = new Map();
    } else {
      baskets.delete(customerId); // re-inserted below: most recently changed last
    }
    if (baskets.size >= maxBaskets) {
      const oldest = baskets.keys().next();
      if (oldest.done !== true) baskets.delete(oldest.value);
    }
    baskets.set(customerId, lines);
    lines.set(parsed.data.sku, (lines.get(parsed.data.sku) ?? 0) + parsed.data.qty);
    return { body: view(customerId, lines) };
  };
}
