import type { Responder } from 'replygate/responder';
import { createCustomersHandler } from './customers-handler';
import { createSampleService } from './create-sample-service';
import type { SampleServiceOptions } from './sample-service-options';

/** Default request topic of the customers sample. */
export const CUSTOMERS_TOPIC = 'customers.requests';

/**
 * The customers sample service (`getCustomer`) over a small seeded in-memory table.
 *
 * @example
 * const customers = createCustomersService({ brokers: ['localhost:9092'] });
 * await customers.start();
 */
export function createCustomersService(options: SampleServiceOptions): Responder {
  return createSampleService('customers', CUSTOMERS_TOPIC, createCustomersHandler(), options);
}
