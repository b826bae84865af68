import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type RequestContext, type RequestHandler, type ResponderReply } from 'replygate/responder';
import { ResponderError } from 'replygate/responder';
import { resolveOperation, type SampleOperation } from './resolve-operation';
import { validationError } from './validation-error';

/** Body of `createOrder`. */
export const createOrderSchema = z.object({
  customerId: z.string().min(1).max(128),
  items: z
    .array(z.object({ sku: z.string().min(1).max(64), qty: z.number().int().positive().max(10_000) }))
    .min(1)
    .max(100),
});

/** An order as the orders sample stores and returns it. */
export interface Order {
  id: string;
  customerId: string;
  items: { sku: string; qty: number }[];
  status: 'CREATED';
  /** ISO 8601 time of creation. */
  createdAt: string;
}

/** Options of {@link createOrdersHandler}; the hooks make tests deterministic. */
export interface OrdersHandlerOptions {
  /** New order id. @defaultValue a random UUID */
  newId?: () => string;
  /** Clock. @defaultValue `() => new Date()` */
  now?: () => Date;
  /** Orders kept in memory; the oldest is forgotten beyond this, so benchmarks cannot exhaust memory. @defaultValue 100000 */
  maxOrders?: number;
}

const OPERATIONS: readonly SampleOperation<'createOrder' | 'getOrder'>[] = [
  { name: 'createOrder', method: 'POST', path: /^\/orders\/?$/ },
  { name: 'getOrder', method: 'GET', path: /^\/orders\/(?<orderId>[^/]+)\/?$/ },
];

/**
 * The orders sample's handler, with its own in-memory store.
 * `createOrder` (POST /orders) validates the body (422 naming bad fields) and answers 201 with the
 * order and a `location` header; `getOrder` (GET /orders/:orderId) answers 200 or 404.
 */
export function createOrdersHandler(options: OrdersHandlerOptions = {}): RequestHandler {
  const newId = options.newId ?? randomUUID;
  const now = options.now ?? (() => new Date());
  const maxOrders = options.maxOrders ?? 100_000;
  const orders = new Map<string, Order>();

  return (ctx: RequestContext): ResponderReply => {
    const op = resolveOperation(ctx, OPERATIONS);
    if (op.name === 'createOrder') {
      const parsed = createOrderSchema.safeParse(ctx.json());
      if (!parsed.success) throw validationError(parsed.error);
      const order: Order = {
        id: newId(),
        customerId: parsed.data.customerId,
        items: parsed.data.items,
        status: 'CREATED',
        createdAt: now().toISOString(),
      };
      if (orders.size >= maxOrders) {
        const oldest = orders.keys().next();
        if (oldest.done !== true) orders.delete(oldest.value);
      }
      orders.set(order.id, order);
      return { status: 201, body: order, headers: { location: `/orders/${encodeURIComponent(order.id)}` } };
    }
    const orderId = op.params['orderId'];
    const order = orderId === undefined ? undefined : orders.get(orderId);
    if (order === undefined) {
      throw new ResponderError(
        404,
        `Order ${orderId ?? '(none)'} not found`,
        { orderId: orderId ?? null },
        { code: 'ORDER_NOT_FOUND' },
      );
    }
    return { body: order };
  };
}
