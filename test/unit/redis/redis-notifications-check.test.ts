import { expect } from 'chai';
import { notificationsCoverSet } from '../../../src/redis/redis-notifications-check';

describe('notificationsCoverSet', () => {
  // K: keyspace channel; $: string commands (SET); A: alias for every class, $ included.
  const covering = ['K$', '$K', 'AK', 'KA', 'KEA', 'K$x', 'Kg$lshzxetd', 'KE$'];
  const notCovering = ['', 'Ex', 'E$', 'EA', 'A', '$', 'K', 'Kx', 'Kgx', 'KEg', 'k$', 'ka'];

  for (const flags of covering) {
    it(`"${flags}" covers SET keyspace events`, () => {
      expect(notificationsCoverSet(flags)).to.equal(true);
    });
  }
  for (const flags of notCovering) {
    it(`"${flags}" does not cover SET keyspace events`, () => {
      expect(notificationsCoverSet(flags)).to.equal(false);
    });
  }
});
