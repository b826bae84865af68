import { expect } from 'chai';
import { OwnedPartitions } from '../../../src/relay/owned-partitions';

describe('OwnedPartitions', () => {
  it('hints nothing before the first join', () => {
    expect(new OwnedPartitions().next()).to.equal(undefined);
  });

  it('deals the owned partitions out in turn', () => {
    const owned = new OwnedPartitions();
    owned.set([1, 4, 5]);
    const seen = Array.from({ length: 6 }, () => owned.next());
    expect([...seen].sort()).to.deep.equal([1, 1, 4, 4, 5, 5]);
    expect(seen.slice(0, 3)).to.have.members([1, 4, 5]);
  });

  it('hints nothing once cleared (rebalancing, crashed, stopping), and the new set after a join', () => {
    const owned = new OwnedPartitions();
    owned.set([0, 1]);
    owned.clear();
    expect(owned.next()).to.equal(undefined);
    owned.set([2]);
    expect([owned.next(), owned.next()]).to.deep.equal([2, 2]);
  });

  it('keeps its own copy of the assignment', () => {
    const owned = new OwnedPartitions();
    const assignment = [3];
    owned.set(assignment);
    assignment.push(7);
    expect([owned.next(), owned.next()]).to.deep.equal([3, 3]);
  });
});
