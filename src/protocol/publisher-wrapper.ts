import type { OutgoingRequest, RequestPublisher } from './outgoing-request';

/**
 * A {@link RequestPublisher} that adds something around another one's `publish` (tracing, an
 * event waiter registered first) and hands connecting, disconnecting and `connected` to it as
 * they are. Subclasses write `publish` only.
 */
export abstract class PublisherWrapper implements RequestPublisher {
  constructor(protected readonly inner: RequestPublisher) {}

  get connected(): boolean {
    return this.inner.connected;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }

  abstract publish(request: OutgoingRequest): Promise<void>;
}
