import { randomBytes } from 'node:crypto';

/** A name unique to this test run and call: topics, groups, key prefixes, instance ids. */
export function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
