import { createRequire } from 'node:module';
import type { Logger } from '../observability/logger';

/**
 * kafkajs 2.2 turns two passing conditions of a broker's controlled shutdown (a rolling restart, an
 * upgrade) into a rebalance of the whole consumer group:
 *
 * - a fetch answered `NOT_LEADER_FOR_PARTITION` (or `LEADER_NOT_AVAILABLE`, `FENCED_LEADER_EPOCH`,
 *   `UNKNOWN_LEADER_EPOCH`): the partition's leader moved. kafkajs refreshes its metadata **and
 *   rejoins the group** (`ConsumerGroup.recoverFromFetch`);
 * - a heartbeat answered `NOT_COORDINATOR` (the group coordinator moved with the leadership of its
 *   `__consumer_offsets` partition) or could not reach the coordinator: kafkajs rejoins the group.
 *   An offset commit answered `NOT_COORDINATOR`: kafkajs throws, and since its offset manager keeps
 *   the coordinator it had at the join, every later commit fails the same way until a rejoin.
 *
 * Neither needs a rejoin: the assignment is still valid, and the new coordinator loads the group
 * (members, generation) from `__consumer_offsets`. The Java client refreshes metadata after the
 * first and rediscovers the coordinator after the second (ruby-kafka made the same change, its
 * PR #228). A rejoin stops every member's fetching until all members have rejoined, which they
 * notice only at their next heartbeat: a stall of about one heartbeat interval per broker stop,
 * for every group in the cluster that used that broker. Under load that stall is a backlog that
 * turns into request timeouts (fault scenario 11).
 *
 * {@link installGroupRecovery} makes kafkajs recover as the Java client does: a moved leader
 * refreshes metadata only (the next fetch goes to the new leader), and a moved or unreachable
 * coordinator is looked up again (for the heartbeat and the offset manager alike) and the heartbeat
 * or commit sent again, a few times over about 2.5 s ({@link COORDINATOR_RETRY_PAUSES_MS}); only
 * if that keeps failing does kafkajs' own handling (a rejoin) follow.
 * A fetch answered `UNKNOWN_TOPIC_OR_PARTITION` (or kafkajs' "topic metadata not loaded") refreshes
 * metadata and rejoins only if an assigned partition is really gone from it (a deleted topic needs
 * the rejoin; a broker that had just restarted and did not know the partition yet does not). Every
 * other error is left to kafkajs unchanged.
 *
 * It patches kafkajs' internal `ConsumerGroup` class, so it applies to every kafkajs consumer in
 * the process. It is applied only to the kafkajs line it was written and tested against
 * ({@link PATCHED_LINE}); on any other version, or if the internals changed shape, nothing is
 * patched and one warning says so (kafkajs' own behaviour, correct but with the stalls).
 */
export const PATCHED_LINE = /^2\.2\.\d+$/;

/** Fetch errors that only mean "the partition's leader moved". */
const MOVED_LEADER = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);

/**
 * Fetch errors that mean "this broker does not know the partition (now)": a deleted topic, or
 * metadata from a broker that has just restarted. Told apart by fresh metadata.
 */
const UNKNOWN_PARTITION = new Set(['UNKNOWN_TOPIC_OR_PARTITION']);
const METADATA_NOT_LOADED = 'KafkaJSTopicMetadataNotLoaded';

/** Heartbeat errors that mean "ask again who coordinates the group". */
const MOVED_COORDINATOR = new Set(['NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE']);
const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
]);

/** The part of kafkajs' internal ConsumerGroup that this file uses. */
interface ConsumerGroupInternals {
  groupId: string;
  coordinator: unknown;
  cluster: {
    refreshMetadata(): Promise<void>;
    findTopicPartitionMetadata(topic: string): { partitionId: number }[];
    findGroupCoordinator(args: { groupId: string }): Promise<unknown>;
  };
  logger: { info(message: string, extra?: object): void };
  offsetManager: OffsetManagerInternals | null;
  recoverFromFetch(e: unknown): Promise<void>;
  assigned(): { topic: string; partitions: number[] }[];
  heartbeat(args: { interval: number }): Promise<void>;
}

/** The part of kafkajs' internal OffsetManager that this file uses. */
interface OffsetManagerInternals {
  groupId: string;
  coordinator: unknown;
  cluster: ConsumerGroupInternals['cluster'];
  commitOffsets(offsets?: unknown): Promise<void>;
}

/** What {@link installGroupRecovery} did; `reason` when it patched nothing. */
export interface GroupRecoveryState {
  installed: boolean;
  kafkajsVersion: string;
  reason?: string;
}

/** Counts, for tests and logs: how often each recovery replaced a rejoin in this process. */
export const groupRecoveryCounts = { movedLeader: 0, unknownPartition: 0, movedCoordinator: 0, commitCoordinator: 0 };

/** Whether fresh metadata still has every partition assigned to this member (no rejoin needed). */
function assignmentStillKnown(group: ConsumerGroupInternals): boolean {
  try {
    return group.assigned().every(({ topic, partitions }) => {
      const known = new Set(group.cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId));
      return partitions.every((p) => known.has(p));
    });
  } catch {
    return false;
  }
}

let state: GroupRecoveryState | undefined;

function errorKind(e: unknown): { type?: string; name?: string } {
  if (typeof e !== 'object' || e === null) return {};
  const { type, name } = e as { type?: unknown; name?: unknown };
  return {
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof name === 'string' ? { name } : {}),
  };
}

/** The first time only: patch kafkajs' ConsumerGroup (see the file comment). Later calls return the first outcome. */
export function installGroupRecovery(log?: Logger): GroupRecoveryState {
  if (state !== undefined) return state;
  const req = createRequire(__filename);
  const version = (req('kafkajs/package.json') as { version: string }).version;
  if (!PATCHED_LINE.test(version)) {
    state = { installed: false, kafkajsVersion: version, reason: `kafkajs ${version} is not the 2.2 line` };
  } else {
    let group: Partial<ConsumerGroupInternals> | undefined;
    let offsets: Partial<OffsetManagerInternals> | undefined;
    try {
      group = (req('kafkajs/src/consumer/consumerGroup') as { prototype: Partial<ConsumerGroupInternals> }).prototype;
      offsets = (req('kafkajs/src/consumer/offsetManager') as { prototype: Partial<OffsetManagerInternals> }).prototype;
    } catch {
      group = undefined;
    }
    if (
      typeof group?.recoverFromFetch !== 'function' ||
      typeof group.heartbeat !== 'function' ||
      typeof offsets?.commitOffsets !== 'function'
    ) {
      state = { installed: false, kafkajsVersion: version, reason: 'kafkajs consumer internals changed shape' };
    } else {
      patchGroup(group as ConsumerGroupInternals);
      patchOffsets(offsets as OffsetManagerInternals);
      state = { installed: true, kafkajsVersion: version };
    }
  }
  if (!state.installed)
    log?.warn(
      { kafkajsVersion: version, reason: state.reason },
      'kafkajs consumer groups will rebalance when a partition leader or group coordinator moves (rolling broker restarts stall consumption for about one heartbeat interval)',
    );
  return state;
}

function patchGroup(proto: ConsumerGroupInternals): void {
  const recoverFromFetch = proto.recoverFromFetch;
  const heartbeat = proto.heartbeat;

  proto.recoverFromFetch = async function (this: ConsumerGroupInternals, e: unknown): Promise<void> {
    const { type, name } = errorKind(e);
    if ((type !== undefined && UNKNOWN_PARTITION.has(type)) || name === METADATA_NOT_LOADED) {
      // A broker that has just restarted may not know a partition yet; a deleted topic is gone
      // from fresh metadata too. Only the second needs kafkajs' rejoin.
      await this.cluster.refreshMetadata();
      if (assignmentStillKnown(this)) {
        groupRecoveryCounts.unknownPartition += 1;
        return;
      }
      return recoverFromFetch.call(this, e);
    }
    if (type === undefined || !MOVED_LEADER.has(type)) return recoverFromFetch.call(this, e);
    groupRecoveryCounts.movedLeader += 1;
    // The assignment stands; the next fetch of these partitions goes to the leader the new metadata names.
    await this.cluster.refreshMetadata();
  };

  proto.heartbeat = async function (this: ConsumerGroupInternals, args: { interval: number }): Promise<void> {
    let counted = false;
    await againAtTheCoordinator(
      () => heartbeat.call(this, args),
      (e) => {
        const { type, name } = errorKind(e);
        return (type !== undefined && MOVED_COORDINATOR.has(type)) || (name !== undefined && UNREACHABLE.has(name));
      },
      async (e) => {
        if (!counted) {
          counted = true;
          groupRecoveryCounts.movedCoordinator += 1;
          const { type, name } = errorKind(e);
          this.logger.info('Group coordinator moved or unreachable, finding it again', {
            groupId: this.groupId,
            error: String(type ?? name),
          });
        }
        // Throws (and kafkajs' own handling follows) if no coordinator can be found.
        this.coordinator = await this.cluster.findGroupCoordinator({ groupId: this.groupId });
        if (this.offsetManager !== null) this.offsetManager.coordinator = this.coordinator;
      },
    );
  };
}

/**
 * How often, and after which pauses, a heartbeat or commit refused by a moved coordinator is sent
 * again after finding the coordinator anew: while the leadership of the group's `__consumer_offsets`
 * partition moves, FindCoordinator may still name the old coordinator for a moment (seen in CI: a
 * single second try met it again, and kafkajs rejoined). About 2.5 s in all, well inside any
 * session timeout (the broker's floor is 6 s).
 */
export const COORDINATOR_RETRY_PAUSES_MS = [0, 100, 200, 400, 800, 1000];

/**
 * Run `call`; while it fails with an error `isMoved` accepts, `refind` the coordinator and run it
 * again after each of {@link COORDINATOR_RETRY_PAUSES_MS}. The last failure is thrown (kafkajs'
 * own handling, a rejoin, follows); any other error at once. If the group really is rebalancing,
 * the new coordinator answers so, and kafkajs rejoins as before.
 */
async function againAtTheCoordinator(
  call: () => Promise<void>,
  isMoved: (e: unknown) => boolean,
  refind: (e: unknown) => Promise<void>,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await call();
      return;
    } catch (e) {
      const pause = COORDINATOR_RETRY_PAUSES_MS[attempt];
      if (!isMoved(e) || pause === undefined) throw e;
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
      await refind(e);
    }
  }
}

function patchOffsets(proto: OffsetManagerInternals): void {
  const commitOffsets = proto.commitOffsets;
  proto.commitOffsets = async function (this: OffsetManagerInternals, offsets?: unknown): Promise<void> {
    let counted = false;
    await againAtTheCoordinator(
      () => commitOffsets.call(this, offsets),
      (e) => {
        const { type } = errorKind(e);
        return type !== undefined && MOVED_COORDINATOR.has(type);
      },
      async () => {
        if (!counted) {
          counted = true;
          groupRecoveryCounts.commitCoordinator += 1;
        }
        this.coordinator = await this.cluster.findGroupCoordinator({ groupId: this.groupId });
      },
    );
  };
}
