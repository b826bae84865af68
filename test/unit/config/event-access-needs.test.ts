import { expect } from 'chai';
import { loadGatewayConfig } from '../../../src/config/load-config';
import { parseRoutes } from '../../../src/config/routes-file';
import { kafkaAccessNeeds } from '../../../src/replica/kafka-access-needs';

const routes = parseRoutes(
  `
routes:
  - { name: place, method: POST, path: /orders, topic: orders.commands, await: { topic: orders.events, match: { key: body.id } } }
  - { name: read, method: GET, path: /orders/:id, await: { topic: orders.events, match: { key: params.id } } }
`,
  { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: [] },
);

describe('start-up Kafka access check of event routes', () => {
  it('relays check the event topics and REPLYGATE_EVENT_GROUP', () => {
    const config = loadGatewayConfig({ REPLYGATE_ROLE: 'relay', REPLYGATE_EVENT_GROUP: 'orders-events' });
    const needs = kafkaAccessNeeds(config, routes, { brokers: config.kafkaBrokers });
    expect(needs.topics.map((t) => t.topic)).to.deep.equal(['replygate.replies', 'orders.events']);
    expect(needs.groups.map((g) => [g.groupId, g.setting.env, g.topic])).to.deep.include([
      'orders-events',
      'REPLYGATE_EVENT_GROUP',
      'orders.events',
    ]);
  });

  it('http replicas check the command topic but not a blocking read’s event topic (they publish nothing there)', () => {
    const config = loadGatewayConfig({ REPLYGATE_ROLE: 'http', REPLYGATE_ROUTES: '/r.yaml' });
    const needs = kafkaAccessNeeds(config, routes, { brokers: config.kafkaBrokers });
    expect(needs.topics.map((t) => t.topic)).to.deep.equal(['replygate.replies', 'orders.commands']);
    expect(needs.groups).to.deep.equal([]);
  });
});
