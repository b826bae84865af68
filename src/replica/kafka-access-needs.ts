import type { KafkaConfig } from 'kafkajs';
import { CONFIG_SOURCES } from '../config/config-sources';
import type { GatewayConfig } from '../config/gateway-config';
import type { RouteDefinition } from '../config/routes-file';
import { ownRelayGroup, siblingRelayGroups } from '../config/relay-groups';
import type { GroupNeed, KafkaAccessCheck, TopicNeed } from '../kafka/kafka-access';

/**
 * What a replica of this role needs from Kafka, as the start-up access check asks it
 * (docs/OPERATIONS.md, "Minimal ACLs", is the same table in words): the `http` role describes and
 * writes the routes' request topics and describes the reply topic (creating it needs CREATE); the
 * `relay` role reads the reply topic and its consumer group; `all` needs both.
 */
export function kafkaAccessNeeds(
  config: GatewayConfig,
  routes: readonly RouteDefinition[] | undefined,
  clientConfig: KafkaConfig,
): KafkaAccessCheck {
  const topics: TopicNeed[] = [];
  const groups: GroupNeed[] = [];
  const relays = config.role !== 'http';
  topics.push({
    topic: config.replyTopic,
    operations: relays
      ? 'DESCRIBE and READ (the relay consumes it)'
      : 'DESCRIBE (and CREATE, if the gateway is to create it)',
    setting: CONFIG_SOURCES.replyTopic,
  });
  if (config.role !== 'relay') {
    const seen = new Set<string>([config.replyTopic]);
    for (const route of routes ?? []) {
      // A blocking read (await without a topic of its own) publishes nothing.
      if (route.await?.command === false || seen.has(route.topic)) continue;
      seen.add(route.topic);
      topics.push({
        topic: route.topic,
        operations: `DESCRIBE and WRITE (route ${route.method} ${route.path} publishes to it)`,
        setting: CONFIG_SOURCES.routesFile,
      });
    }
  }
  if (relays) {
    groups.push({
      groupId: ownRelayGroup(config),
      operations: 'READ (the relay joins it and commits offsets)',
      setting: config.relayGroupIndex === 0 ? CONFIG_SOURCES.relayGroupId : CONFIG_SOURCES.relayGroupIndex,
      topic: config.replyTopic,
    });
    for (const groupId of siblingRelayGroups(config)) {
      groups.push({
        groupId,
        operations: 'DESCRIBE (the relay reads the offsets the other relay groups committed)',
        setting: CONFIG_SOURCES.relayGroups,
        topic: config.replyTopic,
      });
    }
  }
  const eventTopics = [...new Set((routes ?? []).flatMap((r) => (r.await === undefined ? [] : [r.await.topic])))];
  if (relays && eventTopics.length > 0) {
    for (const topic of eventTopics) {
      topics.push({
        topic,
        operations: 'DESCRIBE and READ (the event relay consumes it for routes with await)',
        setting: CONFIG_SOURCES.routesFile,
      });
    }
    groups.push({
      groupId: config.eventGroupId,
      operations: 'READ (the event relay joins it and commits offsets)',
      setting: CONFIG_SOURCES.eventGroupId,
      topic: eventTopics[0] as string,
    });
  }
  return { clientConfig, connection: config, brokersSetting: CONFIG_SOURCES.kafkaBrokers, topics, groups };
}
