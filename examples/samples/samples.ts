import { createBasketHandler } from './basket-handler';
import { BASKET_TOPIC, createBasketService } from './basket-service';
import { sampleGroupId } from './create-sample-service';
import { createCustomersHandler } from './customers-handler';
import { CUSTOMERS_TOPIC, createCustomersService } from './customers-service';
import { createEchoHandler } from './echo-handler';
import { ECHO_TOPIC, createEchoService } from './echo-service';
import { createOrdersHandler } from './orders-handler';
import { ORDERS_TOPIC, createOrdersService } from './orders-service';
import type { SampleDefinition } from './sample-service-options';

/**
 * Every sample service by name, with its factory and default topic (the one `routes.yaml` uses).
 *
 * @example
 * const { factory } = SAMPLES.echo;
 * const echo = factory({ brokers });
 * await echo.start();
 */
export const SAMPLES = {
  orders: {
    factory: createOrdersService,
    defaultTopic: ORDERS_TOPIC,
    defaultGroupId: sampleGroupId('orders'),
    createHandler: () => createOrdersHandler(),
  },
  customers: {
    factory: createCustomersService,
    defaultTopic: CUSTOMERS_TOPIC,
    defaultGroupId: sampleGroupId('customers'),
    createHandler: () => createCustomersHandler(),
  },
  basket: {
    factory: createBasketService,
    defaultTopic: BASKET_TOPIC,
    defaultGroupId: sampleGroupId('basket'),
    createHandler: () => createBasketHandler(),
  },
  echo: {
    factory: createEchoService,
    defaultTopic: ECHO_TOPIC,
    defaultGroupId: sampleGroupId('echo'),
    createHandler: () => createEchoHandler(),
  },
} as const satisfies Record<string, SampleDefinition>;

/** Name of a sample service. */
export type SampleName = keyof typeof SAMPLES;
