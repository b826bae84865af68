import { expect } from 'chai';
import { GatewayMetrics } from '../../../src/observability/gateway-metrics';
import { UnreadReplies } from '../../../src/observability/unread-replies';
import { PendingRegistry, type CancelWaiter } from '../../../src/exchange/pending-registry';

async function counter(metrics: GatewayMetrics, reason: string): Promise<number> {
  const data = await metrics.repliesUnread.get();
  return data.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('UnreadReplies', () => {
  it('counts a late reply by why its request ended, and how late it was', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const unread = new UnreadReplies(metrics.repliesUnread, metrics.lateReplyDelay, { rememberMs: 60_000 });
    unread.abandon('a', 'timeout', 1000);
    unread.abandon('b', 'client-closed', 1000);
    unread.lateReply('a', 3500);
    unread.lateReply('b', 1100);
    unread.lateReply('never-seen', 1100);
    expect(await counter(metrics, 'timeout')).to.equal(1);
    expect(await counter(metrics, 'client-closed')).to.equal(1);
    expect(await counter(metrics, 'unknown')).to.equal(1);
    const delay = await metrics.lateReplyDelay.get();
    expect(delay.values.find((v) => v.metricName?.endsWith('_sum'))?.value).to.be.closeTo(2.6, 1e-9);
    expect(unread.size).to.equal(0);
  });

  it('forgets requests older than the reply TTL and stays bounded', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const unread = new UnreadReplies(metrics.repliesUnread, metrics.lateReplyDelay, {
      rememberMs: 1000,
      maxEntries: 3,
    });
    unread.abandon('old', 'timeout', 0);
    unread.abandon('x1', 'timeout', 2000); // prunes "old"
    expect(unread.size).to.equal(1);
    for (let i = 0; i < 10; i++) unread.abandon(`y${i}`, 'timeout', 2000);
    expect(unread.size).to.be.at.most(3);
    unread.lateReply('old', 2500);
    expect(await counter(metrics, 'unknown')).to.equal(1);
  });

  it('is fed by the pending registry: abandoned waiters and late notifications', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const unread = new UnreadReplies(metrics.repliesUnread, metrics.lateReplyDelay, { rememberMs: 60_000 });
    const registry = new PendingRegistry(() => Promise.resolve(null), {
      onLateReply: (id) => unread.lateReply(id),
      onAbandoned: (id, reason) => unread.abandon(id, reason),
    });
    let cancel: CancelWaiter | undefined;
    const parked = registry.park('c1', 60_000, 'r', (c) => (cancel = c));
    cancel!.cancel('client-closed');
    expect((await parked).kind).to.equal('cancelled');
    const timedOut = await registry.park('c2', 5, 'r');
    expect(timedOut.kind).to.equal('timeout');
    registry.notify('c1');
    registry.notify('c2');
    expect(await counter(metrics, 'client-closed')).to.equal(1);
    expect(await counter(metrics, 'timeout')).to.equal(1);
  });
});
