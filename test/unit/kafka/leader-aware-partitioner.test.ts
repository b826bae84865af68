import { expect } from 'chai';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { LeaderAwarePartitioner } from '../../../src/kafka/leader-aware-partitioner';

/** Six partitions led by nodes 1, 2, 3, 1, 2, 3. */
const sixOnThree = (leaders = [1, 2, 3, 1, 2, 3]): PartitionMetadata[] =>
  leaders.map((leader, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
  }));

describe('LeaderAwarePartitioner', () => {
  it('puts a keyed message where the Java client (kafkajs DefaultPartitioner) does, whatever the leaders', () => {
    const p = new LeaderAwarePartitioner();
    const ours = p.create();
    const java = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 200; i++) {
      const message = { key: `order-${i}`, value: 'x' };
      p.avoid(2);
      const args = { topic: 't', partitionMetadata: sixOnThree(), message };
      expect(ours(args)).to.equal(java(args));
    }
  });

  it('keeps an explicit partition', () => {
    const choose = new LeaderAwarePartitioner().create();
    expect(choose({ topic: 't', partitionMetadata: sixOnThree(), message: { value: 'x', partition: 4 } })).to.equal(4);
  });

  it('spreads keyless messages over every partition with a leader, and none without', () => {
    const choose = new LeaderAwarePartitioner().create();
    const seen = new Set<number>();
    for (let i = 0; i < 60; i++)
      seen.add(choose({ topic: 't', partitionMetadata: sixOnThree([1, 2, -1, 1, 2, 3]), message: { value: 'x' } }));
    expect([...seen].sort()).to.deep.equal([0, 1, 3, 4, 5]);
  });

  it('leaves out the partitions of a leader a send could not reach, until it is reachable or the time is up', () => {
    let now = 1000;
    const p = new LeaderAwarePartitioner(2000, () => now);
    const choose = p.create();
    const pick = () => {
      const seen = new Set<number>();
      for (let i = 0; i < 60; i++)
        seen.add(choose({ topic: 't', partitionMetadata: sixOnThree(), message: { value: 'x' } }));
      return [...seen].sort();
    };
    p.avoid(2);
    expect(pick(), 'node 2 avoided').to.deep.equal([0, 2, 3, 5]);
    p.reachable(2);
    expect(pick(), 'reachable again').to.deep.equal([0, 1, 2, 3, 4, 5]);
    p.avoid(3);
    now += 2001;
    expect(pick(), 'avoidance expired').to.deep.equal([0, 1, 2, 3, 4, 5]);
    p.avoid(1);
    p.avoid(2);
    p.avoid(3);
    expect(pick(), 'every leader avoided: any partition with a leader').to.deep.equal([0, 1, 2, 3, 4, 5]);
  });

  it('place(): nothing before kafkajs handed it metadata, then the partition and its leader', () => {
    const p = new LeaderAwarePartitioner();
    expect(p.place('t', { value: 'x' })).to.equal(undefined);
    p.create()({ topic: 't', partitionMetadata: sixOnThree(), message: { value: 'x' } });
    const placed = p.place('t', { key: 'k', value: 'x' })!;
    const java = Partitioners.DefaultPartitioner()({
      topic: 't',
      partitionMetadata: sixOnThree(),
      message: { key: 'k', value: 'x' },
    });
    expect(placed).to.deep.equal({ partition: java, leader: [1, 2, 3, 1, 2, 3][java] });
  });
});
