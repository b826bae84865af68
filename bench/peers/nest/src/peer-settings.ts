/** The Nest peer's settings, from the environment the bench harness sets. */
export interface PeerSettings {
  brokers: string[];
  requestTopic: string;
  parkTopic: string;
  /** Consumer group of this instance's ClientKafka (Nest appends `-client`). */
  group: string;
  instance: string;
}

export function peerSettings(env: NodeJS.ProcessEnv = process.env): PeerSettings {
  const need = (name: string): string => {
    const v = env[name];
    if (v === undefined || v === '') throw new Error(`${name} is not set`);
    return v;
  };
  return {
    brokers: need('KAFKA_BROKERS').split(','),
    requestTopic: need('PEER_REQUEST_TOPIC'),
    parkTopic: need('PEER_PARK_TOPIC'),
    group: need('PEER_GROUP'),
    instance: env['PEER_INSTANCE'] ?? 'nest-peer',
  };
}
