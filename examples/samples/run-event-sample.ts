#!/usr/bin/env node
// Runs one event sample (issue 15): `npm run sample:events -- orders|users`. Pair it with the
// routes in examples/samples/event-routes.yaml.
import { createLogger, loadKafkaConnection } from 'replygate';
import { createEventSampleService, EVENT_SAMPLES, type EventSampleName } from './event-sample-service';

async function main(argv: string[]): Promise<void> {
  const name = argv[0] ?? '';
  if (!(name in EVENT_SAMPLES)) {
    throw new Error(`unknown event sample "${name}"; choose one of ${Object.keys(EVENT_SAMPLES).join(', ')}`);
  }
  const logger = createLogger(process.env['LOG_LEVEL'] ?? 'info');
  const service = createEventSampleService(name as EventSampleName, {
    brokers: (process.env['KAFKA_BROKERS'] ?? 'localhost:9092').split(','),
    connection: loadKafkaConnection(process.env),
    logger,
  });
  const stop = (): void => {
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await service.start();
  process.stdout.write(`${JSON.stringify({ event: 'ready', sample: name })}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`run-event-sample: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
