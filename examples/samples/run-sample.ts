#!/usr/bin/env node
// Runs one sample service: `npm run sample -- echo --topic t`, or
// `node dist/examples/samples/run-sample.js echo`. Formerly `replygate sample`; samples are not
// part of the gateway's binary.
import { parseArgs } from 'node:util';
import { createLogger, KAFKA_CONNECTION_FLAGS, loadKafkaConnection } from 'replygate';
import { SAMPLES } from './samples';

const USAGE = `Usage: run-sample <${Object.keys(SAMPLES).join('|')}> [--kafka-brokers H:P] [--topic T] [--group G]
                  [--partitions-concurrently N] [--per-partition-concurrency N] [--log-level L]
                  [--kafka-security-protocol P] [--kafka-sasl-mechanism M] [--kafka-tls-ca-file F] ...
Kafka TLS/SASL: the gateway's settings, by the same environment variables and flags (README,
"Kafka security"); secrets from files or the environment only.
`;

/** Start the sample named by the first positional argument; resolves once it consumes. */
export async function runSample(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'kafka-brokers': { type: 'string' },
      topic: { type: 'string' },
      group: { type: 'string' },
      'partitions-concurrently': { type: 'string' },
      'per-partition-concurrency': { type: 'string' },
      'log-level': { type: 'string' },
      ...CONNECTION_FLAGS,
    },
  });
  const name = positionals[0] ?? '';
  const entry = (SAMPLES as Record<string, (typeof SAMPLES)[keyof typeof SAMPLES]>)[name];
  if (entry === undefined)
    throw new Error(`unknown sample "${name}"; choose one of ${Object.keys(SAMPLES).join(', ')}`);
  const brokers = (values['kafka-brokers'] ?? process.env['KAFKA_BROKERS'] ?? 'localhost:9092').split(',');
  const connection = loadKafkaConnection(process.env, values);
  const logger = createLogger(values['log-level'] ?? process.env['LOG_LEVEL'] ?? 'info');
  const responder = entry.factory({
    brokers,
    connection,
    topic: values.topic ?? entry.defaultTopic,
    groupId: values.group,
    logger,
    partitionsConsumedConcurrently: positiveInt(values['partitions-concurrently'], '--partitions-concurrently'),
    perPartitionConcurrency: positiveInt(values['per-partition-concurrency'], '--per-partition-concurrency'),
  });
  const stop = (): void => {
    responder.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await responder.start();
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', sample: name, topic: values.topic ?? entry.defaultTopic })}\n`,
  );
}

/** The connection settings' flags (secrets have none), as parseArgs options. */
const CONNECTION_FLAGS = Object.fromEntries(KAFKA_CONNECTION_FLAGS.map((f) => [f, { type: 'string' as const }]));

/** A flag's positive integer value, or undefined when the flag is absent. */
function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be an integer ≥ 1, got "${value}"`);
  return n;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(USAGE);
  } else {
    runSample(argv).catch((err: unknown) => {
      process.stderr.write(`run-sample: ${(err as Error).message}\n`);
      process.exit(1);
    });
  }
}
