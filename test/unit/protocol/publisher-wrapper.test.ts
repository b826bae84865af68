import { expect } from 'chai';
import type { OutgoingRequest, RequestPublisher } from '../../../src/protocol/outgoing-request';
import { PublisherWrapper } from '../../../src/protocol/publisher-wrapper';

class Counting extends PublisherWrapper {
  published = 0;

  override async publish(request: OutgoingRequest): Promise<void> {
    this.published++;
    await this.inner.publish(request);
  }
}

describe('PublisherWrapper', () => {
  it('hands connect, disconnect and connected to the publisher it wraps, as they are', async () => {
    const calls: string[] = [];
    let connected = false;
    const inner: RequestPublisher = {
      get connected() {
        return connected;
      },
      connect: () => {
        calls.push('connect');
        connected = true;
        return Promise.resolve();
      },
      disconnect: () => {
        calls.push('disconnect');
        connected = false;
        return Promise.reject(new Error('producer gone'));
      },
      publish: () => {
        calls.push('publish');
        return Promise.resolve();
      },
    };
    const wrapper = new Counting(inner);
    expect(wrapper.connected).to.equal(false);
    await wrapper.connect();
    expect(wrapper.connected).to.equal(true);
    await wrapper.publish({ topic: 't', correlationId: 'c' } as OutgoingRequest);
    let failure: unknown;
    await wrapper.disconnect().catch((err: unknown) => (failure = err));
    expect((failure as Error).message).to.equal('producer gone');
    expect(wrapper.connected).to.equal(false);
    expect(calls).to.deep.equal(['connect', 'publish', 'disconnect']);
    expect(wrapper.published).to.equal(1);
  });
});
