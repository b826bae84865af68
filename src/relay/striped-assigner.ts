import { AssignerProtocol, PartitionAssigners, type PartitionAssigner } from 'kafkajs';

/** Protocol name of {@link stripedAssigner} in the group join. */
export const STRIPED_ASSIGNER = 'ReplygateStriped';

/**
 * Which member (index into the members sorted by id) owns the partition at `position` (index into
 * the partitions sorted by id) in relay group `groupIndex`. Even groups deal partitions out in
 * stripes (position mod members), odd groups in contiguous ranges, so that a relay of group 0 and
 * a relay of group 1 share as few partitions as the counts allow (about partitions / members²):
 * two relays killed at once, one in each group, leave only those partitions unread.
 */
export function stripedOwner(position: number, partitions: number, members: number, groupIndex: number): number {
  return groupIndex % 2 === 0 ? position % members : Math.floor((position * members) / partitions);
}

/**
 * The relay's partition assigner when there are redundant relay groups: {@link stripedOwner}
 * instead of kafkajs' round robin over the broker's partition order, which gives every group the
 * same split (a relay of one group then owns exactly the partitions of one relay of the other, and
 * both dying at once leaves those unread). Listed before round robin, so a group keeps working
 * while relays without this assigner (an older version during a rolling upgrade) are members.
 */
export function relayAssigners(groupIndex: number): PartitionAssigner[] {
  const striped: PartitionAssigner = ({ cluster }) => ({
    name: STRIPED_ASSIGNER,
    version: 0,
    assign({ members, topics }) {
      const sorted = members.map((m) => m.memberId).sort();
      const assignment = new Map<string, Record<string, number[]>>(sorted.map((id) => [id, {}]));
      for (const topic of topics) {
        const ids = cluster
          .findTopicPartitionMetadata(topic)
          .map((p) => p.partitionId)
          .sort((a, b) => a - b);
        ids.forEach((partition, position) => {
          const owner = assignment.get(sorted[stripedOwner(position, ids.length, sorted.length, groupIndex)]!)!;
          (owner[topic] ??= []).push(partition);
        });
      }
      return Promise.resolve(
        sorted.map((memberId) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 0,
            assignment: assignment.get(memberId)!,
            userData: Buffer.alloc(0),
          }),
        })),
      );
    },
    protocol({ topics }) {
      return {
        name: STRIPED_ASSIGNER,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
  return [striped, PartitionAssigners.roundRobin];
}
