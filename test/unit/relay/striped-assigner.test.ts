import { expect } from 'chai';
import { AssignerProtocol, type Cluster, type Logger } from 'kafkajs';
import { relayAssigners, STRIPED_ASSIGNER, stripedOwner } from '../../../src/relay/striped-assigner';

/** Partitions per member as the striped assigner hands them out, for `members` members of group `g`. */
async function split(partitionIds: number[], members: number, g: number): Promise<number[][]> {
  // Only the metadata the assigner reads: the topic's partitions, in the broker's (unsorted) order.
  const cluster = {
    findTopicPartitionMetadata: () => partitionIds.map((partitionId) => ({ partitionId })),
  } as unknown as Cluster;
  const assigner = relayAssigners(g)[0]!({ cluster, groupId: 'g', logger: {} as Logger });
  expect(assigner.name).to.equal(STRIPED_ASSIGNER);
  const ids = Array.from({ length: members }, (_, i) => `member-${i}`);
  const out = await assigner.assign({
    members: ids.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })),
    topics: ['replies'],
  });
  return ids.map((id) => {
    const raw = out.find((a) => a.memberId === id)?.memberAssignment;
    return raw === undefined ? [] : (AssignerProtocol.MemberAssignment.decode(raw)?.assignment['replies'] ?? []);
  });
}

const maxShared = (a: number[][], b: number[][]): number =>
  Math.max(...a.flatMap((x) => b.map((y) => x.filter((p) => y.includes(p)).length)));

describe('striped relay assigner (redundant relay groups)', () => {
  it('assigns every partition to exactly one member, for any counts, in both kinds of group', async () => {
    for (let partitions = 1; partitions <= 12; partitions++)
      for (let members = 1; members <= 6; members++)
        for (const g of [0, 1]) {
          const ids = Array.from({ length: partitions }, (_, i) => (i + 3) % partitions).reverse();
          const got = (await split(ids, members, g)).flat().sort((a, b) => a - b);
          expect(got, `${partitions} partitions, ${members} members, group ${g}`).to.deep.equal(
            Array.from({ length: partitions }, (_, i) => i),
          );
          const sizes = (await split(ids, members, g)).map((x) => x.length);
          expect(Math.max(...sizes) - Math.min(...sizes), 'balanced').to.be.at.most(1);
        }
  });

  it('makes a relay of group 0 and one of group 1 share as few partitions as the counts allow', async () => {
    // Broker order as kafkajs saw it on the local stack; round robin over it gives both groups the same split.
    const order = [0, 3, 1, 2];
    expect(maxShared(await split(order, 2, 0), await split(order, 2, 1)), '4 partitions, 2 + 2 relays').to.equal(1);
    const twelve = Array.from({ length: 12 }, (_, i) => 11 - i);
    expect(maxShared(await split(twelve, 3, 0), await split(twelve, 3, 1)), '12 partitions, 3 + 3').to.equal(2);
    expect(maxShared(await split(twelve, 2, 0), await split(twelve, 2, 1)), '12 partitions, 2 + 2').to.equal(3);
  });

  it('stripes in even groups, ranges in odd ones', () => {
    expect([0, 1, 2, 3].map((p) => stripedOwner(p, 4, 2, 0))).to.deep.equal([0, 1, 0, 1]);
    expect([0, 1, 2, 3].map((p) => stripedOwner(p, 4, 2, 1))).to.deep.equal([0, 0, 1, 1]);
  });

  it('falls back to round robin for members that do not know it (rolling upgrade)', () => {
    const names = relayAssigners(1).map((a) => a({ cluster: {} as Cluster, groupId: 'g', logger: {} as Logger }).name);
    expect(names).to.deep.equal([STRIPED_ASSIGNER, 'RoundRobinAssigner']);
  });
});
