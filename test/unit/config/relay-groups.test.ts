import { expect } from 'chai';
import { loadGatewayConfig } from '../../../src/config/load-config';
import { ownRelayGroup, relayGroupIds, siblingRelayGroups } from '../../../src/config/relay-groups';
import { ConfigError } from '../../../src/errors/startup-errors';
import { adminSettings } from '../../../src/ingress/admin/admin-settings';
import { kafkaAccessNeeds } from '../../../src/replica/kafka-access-needs';

const BASE = { REPLYGATE_ROUTES: '/etc/replygate/routes.yaml' };

describe('relay groups (REPLYGATE_RELAY_GROUPS, REPLYGATE_RELAY_GROUP_INDEX)', () => {
  it('defaults to one group named REPLYGATE_RELAY_GROUP, as before redundant groups existed', () => {
    const config = loadGatewayConfig({ ...BASE });
    expect(config.relayGroups).to.equal(1);
    expect(config.relayGroupIndex).to.equal(0);
    expect(relayGroupIds(config)).to.deep.equal(['replygate-relay']);
    expect(ownRelayGroup(config)).to.equal('replygate-relay');
    expect(siblingRelayGroups(config)).to.deep.equal([]);
  });

  it('keeps REPLYGATE_RELAY_GROUP as group 0 and suffixes the others', () => {
    const env = { ...BASE, REPLYGATE_RELAY_GROUP: 'orders-relay', REPLYGATE_RELAY_GROUPS: '3' };
    expect(relayGroupIds(loadGatewayConfig(env))).to.deep.equal(['orders-relay', 'orders-relay-1', 'orders-relay-2']);
    expect(ownRelayGroup(loadGatewayConfig(env))).to.equal('orders-relay');
    const second = loadGatewayConfig({ ...env, REPLYGATE_RELAY_GROUP_INDEX: '1' });
    expect(ownRelayGroup(second)).to.equal('orders-relay-1');
    expect(siblingRelayGroups(second)).to.deep.equal(['orders-relay', 'orders-relay-2']);
    expect(
      ownRelayGroup(loadGatewayConfig({ ...BASE, REPLYGATE_RELAY_GROUPS: '2' }, { relayGroupIndex: '1' })),
    ).to.equal('replygate-relay-1');
  });

  it('refuses an index that is not one of the groups, naming both settings', () => {
    let err: unknown;
    try {
      loadGatewayConfig({ ...BASE, REPLYGATE_RELAY_GROUPS: '2', REPLYGATE_RELAY_GROUP_INDEX: '2' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).message)
      .to.contain('REPLYGATE_RELAY_GROUP_INDEX (--relay-group-index): 2')
      .and.to.contain('REPLYGATE_RELAY_GROUPS (--relay-groups)=2')
      .and.to.contain('use 0 to 1');
    expect(() => loadGatewayConfig({ ...BASE, REPLYGATE_RELAY_GROUPS: '0' })).to.throw(ConfigError, /RELAY_GROUPS/);
  });

  it('checks at start-up READ on its own group and DESCRIBE on the others', () => {
    const config = loadGatewayConfig({
      ...BASE,
      REPLYGATE_ROLE: 'relay',
      REPLYGATE_RELAY_GROUPS: '2',
      REPLYGATE_RELAY_GROUP_INDEX: '1',
    });
    const needs = kafkaAccessNeeds(config, undefined, { brokers: config.kafkaBrokers });
    expect(needs.groups.map((g) => [g.groupId, g.operations.split(' ')[0], g.setting.env])).to.deep.equal([
      ['replygate-relay-1', 'READ', 'REPLYGATE_RELAY_GROUP_INDEX'],
      ['replygate-relay', 'DESCRIBE', 'REPLYGATE_RELAY_GROUPS'],
    ]);
  });

  it('shows every group and its own on /admin/settings', () => {
    const relay = loadGatewayConfig({ ...BASE, REPLYGATE_RELAY_GROUPS: '2', REPLYGATE_RELAY_GROUP_INDEX: '1' });
    expect(adminSettings(relay)).to.deep.include({
      relayGroupId: 'replygate-relay',
      relayGroups: ['replygate-relay', 'replygate-relay-1'],
      relayGroup: 'replygate-relay-1',
    });
    expect(adminSettings(loadGatewayConfig({ ...BASE, REPLYGATE_ROLE: 'http' }))).to.deep.include({ relayGroup: null });
  });
});
