import type { Responder } from 'replygate/responder';
import { createBasketHandler } from './basket-handler';
import { createSampleService } from './create-sample-service';
import type { SampleServiceOptions } from './sample-service-options';

/** Default request topic of the basket sample. */
export const BASKET_TOPIC = 'basket.requests';

/**
 * The basket sample service (`getBasket`, `addToBasket`), baskets kept in memory.
 *
 * @example
 * const basket = createBasketService({ brokers: ['localhost:9092'] });
 * await basket.start();
 */
export function createBasketService(options: SampleServiceOptions): Responder {
  return createSampleService('basket', BASKET_TOPIC, createBasketHandler(), options);
}
