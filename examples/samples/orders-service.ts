import type { Responder } from 'replygate/responder';
import { createSampleService } from './create-sample-service';
import { createOrdersHandler } from './orders-handler';
import type { SampleServiceOptions } from './sample-service-options';

/** Default request topic of the orders sample. */
export const ORDERS_TOPIC = 'orders.requests';

/**
 * The orders sample service (`createOrder`, `getOrder`), orders kept in memory.
 *
 * @example
 * const orders = createOrdersService({ brokers: ['localhost:9092'] });
 * await orders.start();
 */
export function createOrdersService(options: SampleServiceOptions): Responder {
  return createSampleService('orders', ORDERS_TOPIC, createOrdersHandler(), options);
}
