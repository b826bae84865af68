import { type RequestHandler } from 'replygate/responder';
import { type Responder } from 'replygate/responder';
import { createResponder } from 'replygate/responder';
import type { SampleServiceOptions } from './sample-service-options';

/**
 * Wrap a sample's handler in a responder, filling in the sample's default topic and the
 * `replygate-sample-<name>` consumer group.
 */
export function createSampleService(
  name: string,
  defaultTopic: string,
  handler: RequestHandler,
  options: SampleServiceOptions,
): Responder {
  return createResponder({
    brokers: options.brokers,
    ...(options.connection === undefined ? {} : { connection: options.connection }),
    topic: options.topic ?? defaultTopic,
    groupId: options.groupId ?? sampleGroupId(name),
    clientId: `replygate-sample-${name}`,
    handler,
    // Each partition is handled in order; several partitions at once keep one slow key from
    // holding up the others.
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 4,
    perPartitionConcurrency: options.perPartitionConcurrency ?? 1,
    ...(options.logger === undefined ? {} : { logger: options.logger.child({ sample: name }) }),
  });
}

/** The default consumer group of a sample. */
export function sampleGroupId(name: string): string {
  return `replygate-sample-${name}`;
}
