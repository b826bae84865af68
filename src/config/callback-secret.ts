import { timingSafeEqual } from 'node:crypto';

/**
 * A route's webhook signing secret. Kept out of JSON (`/admin/routes` serialises routes) and out
 * of logs: it prints as `[redacted]`.
 */
export class CallbackSecret {
  readonly #value: Buffer;

  constructor(value: string) {
    this.#value = Buffer.from(value, 'utf8');
  }

  /** The secret bytes, for signing only. */
  reveal(): Buffer {
    return this.#value;
  }

  /** Constant-time comparison with another secret's bytes. */
  equals(other: Buffer): boolean {
    return other.length === this.#value.length && timingSafeEqual(other, this.#value);
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }
}
