import { expect } from 'chai';
import { createRequire } from 'node:module';
import { fixKafkajsIdleLoop } from '../../../src/kafka/kafkajs-idle-loop';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}

const RequestQueue = createRequire(__filename)('kafkajs/src/network/requestQueue/index.js') as new (o: object) => Queue;
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function queue(): Queue {
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 1000,
    enforceRequestTimeout: false,
    clientId: 'idle-loop-test',
    broker: '127.0.0.1:9',
    logger: silent,
  });
}

describe('fixKafkajsIdleLoop', () => {
  before(() => {
    expect(fixKafkajsIdleLoop(), 'kafkajs internals as expected').to.equal(true);
  });

  it('schedules no check when nothing is queued and no throttle is in force (kafkajs 2.2.4 looped every 1 ms)', () => {
    const q = queue();
    try {
      q.checkPendingRequests(); // what a completed request does
      expect(q.throttleCheckTimeoutId).to.equal(null);
      q.throttledUntil = Date.now() - 5; // a throttle that has ended
      q.scheduleCheckPendingRequests();
      expect(q.throttleCheckTimeoutId).to.equal(null);
    } finally {
      q.destroy();
    }
  });

  it('still sends a request queued behind a throttle once it ends, then stops checking', async () => {
    const q = queue();
    let sent = 0;
    try {
      q.throttledUntil = Date.now() + 30;
      q.pending.push({ correlationId: 1, expectResponse: true, send: () => sent++ });
      q.scheduleCheckPendingRequests();
      expect(q.throttleCheckTimeoutId, 'a check scheduled for the end of the throttle').not.to.equal(null);
      const until = Date.now() + 2000;
      while (sent === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(sent).to.equal(1);
      expect(q.pending).to.have.length(0);
      expect(q.throttleCheckTimeoutId, 'nothing left to check').to.equal(null);
    } finally {
      q.destroy();
    }
  });
});
