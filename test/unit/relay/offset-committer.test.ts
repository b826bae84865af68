import { expect } from 'chai';
import type { TopicPartitionOffsetAndMetadata } from 'kafkajs';
import { silentLogger } from '../../../src/observability/logger';
import { OffsetCommitter } from '../../../src/relay/offset-committer';

describe('OffsetCommitter', () => {
  it('commits the offset after the last done one, all partitions in one request, and nothing twice', async () => {
    const commits: TopicPartitionOffsetAndMetadata[][] = [];
    const c = new OffsetCommitter('replies', async (o) => void commits.push(o), 60_000, silentLogger());
    c.markDone(0, '9');
    c.markDone(0, '14');
    c.markDone(3, '0');
    await c.flush();
    await c.flush();
    expect(commits).to.deep.equal([
      [
        { topic: 'replies', partition: 0, offset: '15' },
        { topic: 'replies', partition: 3, offset: '1' },
      ],
    ]);
  });

  it('forgets partitions it no longer owns or rewound', async () => {
    const commits: TopicPartitionOffsetAndMetadata[][] = [];
    const c = new OffsetCommitter('replies', async (o) => void commits.push(o), 60_000, silentLogger());
    c.markDone(0, '1');
    c.markDone(1, '1');
    c.forget((p) => p !== 1);
    await c.flush();
    expect(commits).to.deep.equal([[{ topic: 'replies', partition: 0, offset: '2' }]]);
  });

  it('keeps offsets of a failed commit for the next one, unless newer ones were done meanwhile', async () => {
    const commits: TopicPartitionOffsetAndMetadata[][] = [];
    let fail = true;
    const c = new OffsetCommitter(
      'replies',
      async (o) => {
        if (fail) throw new Error('REBALANCE_IN_PROGRESS');
        commits.push(o);
      },
      60_000,
      silentLogger(),
    );
    c.markDone(0, '4');
    c.markDone(1, '4');
    const failing = c.flush();
    c.markDone(1, '8'); // done while the failing commit was in flight
    await failing;
    fail = false;
    await c.flush();
    expect(commits).to.deep.equal([
      [
        { topic: 'replies', partition: 1, offset: '9' },
        { topic: 'replies', partition: 0, offset: '5' },
      ],
    ]);
  });

  it('commits on its interval once started, and not after stop', async () => {
    let commits = 0;
    const c = new OffsetCommitter('replies', async () => void commits++, 10, silentLogger());
    c.start();
    c.markDone(0, '1');
    await new Promise((r) => setTimeout(r, 60));
    expect(commits).to.equal(1);
    c.stop();
    c.markDone(0, '2');
    await new Promise((r) => setTimeout(r, 40));
    expect(commits).to.equal(1);
  });
});
