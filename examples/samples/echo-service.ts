import type { Responder } from 'replygate/responder';
import { createSampleService } from './create-sample-service';
import { createEchoHandler } from './echo-handler';
import type { SampleServiceOptions } from './sample-service-options';

/** Default request topic of the echo sample. */
export const ECHO_TOPIC = 'echo.requests';

/**
 * The echo sample service: answers every request with a description of it (see
 * `createEchoHandler`), optionally late (`?delayMs=`) or with another status (`?status=`).
 *
 * @example
 * const echo = createEchoService({ brokers: ['localhost:9092'], topic: `echo.${testId}` });
 * await echo.start();
 */
export function createEchoService(options: SampleServiceOptions): Responder {
  return createSampleService('echo', ECHO_TOPIC, createEchoHandler(), options);
}
