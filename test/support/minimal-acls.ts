import type { AclGrant } from './secured-clients';

/**
 * The minimal ACLs of docs/OPERATIONS.md ("Minimal ACLs"), per principal, as grants: the table
 * `test/integration/kafka-security.test.ts` grants exactly, and takes one line away at a time.
 * Each grant has a `why` naming the table line.
 */
export interface MinimalAcl extends AclGrant {
  why: string;
}

/** A gateway replica of role `http`: publishes requests, describes the (pre-created) reply topic. */
export function httpRoleAcls(principal: string, o: { requestTopics: string[]; replyTopic: string }): MinimalAcl[] {
  return [
    ...o.requestTopics.map((name): MinimalAcl => ({
      principal,
      resource: 'topic',
      name,
      // WRITE implies DESCRIBE (Kafka: READ, WRITE, DELETE and ALTER each allow DESCRIBE)
      operations: ['WRITE'],
      why: 'publish requests',
    })),
    {
      principal,
      resource: 'topic',
      name: o.replyTopic,
      operations: ['DESCRIBE'],
      why: 'ensureTopic and the Kafka readiness probe',
    },
  ];
}

/** A gateway replica of role `relay`: consumes the reply topic in the relay group (and rewinds). */
export function relayRoleAcls(principal: string, o: { replyTopic: string; relayGroup: string }): MinimalAcl[] {
  return [
    { principal, resource: 'topic', name: o.replyTopic, operations: ['READ'], why: 'consume replies' },
    { principal, resource: 'group', name: o.relayGroup, operations: ['READ'], why: 'the relay group' },
    {
      principal,
      resource: 'group',
      name: `${o.relayGroup}-rewind-`,
      prefixed: true,
      operations: ['READ'],
      why: 'the temporary groups of a rewind',
    },
  ];
}

/** A service (responder kit or any Kafka client): consumes its request topic, writes replies. */
export function serviceAcls(
  principal: string,
  o: { requestTopic: string; groupId: string; replyTopic: string },
): MinimalAcl[] {
  return [
    { principal, resource: 'topic', name: o.requestTopic, operations: ['READ'], why: 'consume requests' },
    { principal, resource: 'group', name: o.groupId, operations: ['READ'], why: 'its consumer group' },
    { principal, resource: 'topic', name: o.replyTopic, operations: ['WRITE'], why: 'produce replies' },
  ];
}

type Operation = AclGrant['operations'][number];

/**
 * The grants with one line's operations replaced by `instead` (none: the line is dropped), e.g.
 * WRITE on a topic replaced by DESCRIBE alone, the DESCRIBE that WRITE implied.
 */
export function replaceLine(
  grants: readonly MinimalAcl[],
  resource: AclGrant['resource'],
  name: string,
  instead: readonly Operation[] = [],
): MinimalAcl[] {
  const i = grants.findIndex((g) => g.resource === resource && g.name === name);
  if (i < 0) throw new Error(`no ACL line on ${resource} ${name}`);
  const out = [...grants];
  if (instead.length === 0) out.splice(i, 1);
  else out[i] = { ...grants[i]!, operations: instead };
  return out;
}
