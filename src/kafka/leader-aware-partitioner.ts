import { Partitioners, type ICustomPartitioner, type Message, type PartitionMetadata } from 'kafkajs';

/** Where a message goes: its partition and that partition's leader (a node id; -1 when it has none). */
export interface Placement {
  partition: number;
  leader: number;
}

/**
 * The request producer's partitioner. Keyed messages go where Kafka's Java client sends them
 * (murmur2 of the key over all partitions, kafkajs' `DefaultPartitioner`): a key's partition never
 * moves. Messages without a key go round-robin over the partitions that have a leader, leaving out
 * those whose leader a send just failed to reach ({@link avoid}). That matters in the seconds after
 * a broker dies: its partitions keep it as their leader until the controller fences it
 * (`broker.session.timeout.ms`), so kafkajs' own choice (any partition with a leader) would keep
 * sending a third of keyless requests to a dead broker.
 *
 * It also keeps the partition metadata kafkajs hands it on every send, so that {@link place} can
 * tell, before a send, which leader each message will go to: the publisher sends one produce call
 * per leader, and a leader that fails costs only its own messages a retry.
 *
 * @example
 * const partitioner = new LeaderAwarePartitioner();
 * const producer = kafka.producer({ createPartitioner: partitioner.create });
 */
export class LeaderAwarePartitioner {
  private readonly metadata = new Map<string, PartitionMetadata[]>();
  private readonly avoidUntil = new Map<number, number>();
  private readonly counters = new Map<string, number>();
  private readonly keyed = Partitioners.DefaultPartitioner();

  /**
   * @param avoidForMs how long a leader that could not be reached is left out for keyless messages
   *   (renewed by every failure; ended early by a send to it that succeeds).
   * @param now the clock (tests).
   */
  constructor(
    private readonly avoidForMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  /** For kafkajs' `createPartitioner`: records the metadata it is given, then chooses. */
  readonly create: ICustomPartitioner = () => (args) => {
    this.metadata.set(args.topic, args.partitionMetadata);
    return this.choose(args.topic, args.partitionMetadata, args.message);
  };

  /**
   * Where `message` would go now, from the metadata of the last send to `topic`; undefined before
   * the first send to it (kafkajs has not fetched its metadata yet).
   */
  place(topic: string, message: Message): Placement | undefined {
    const partitions = this.metadata.get(topic);
    if (partitions === undefined || partitions.length === 0) return undefined;
    const partition = this.choose(topic, partitions, message);
    const leader = partitions.find((p) => p.partitionId === partition)?.leader ?? -1;
    return { partition, leader };
  }

  /** A send to `leader` failed to reach it: leave its partitions out of keyless choices for a while. */
  avoid(leader: number): void {
    if (leader >= 0) this.avoidUntil.set(leader, this.now() + this.avoidForMs);
  }

  /** A send to `leader` succeeded. */
  reachable(leader: number): void {
    this.avoidUntil.delete(leader);
  }

  private avoided(leader: number): boolean {
    const until = this.avoidUntil.get(leader);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.avoidUntil.delete(leader);
    return false;
  }

  private choose(topic: string, partitions: PartitionMetadata[], message: Message): number {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (message.key !== undefined && message.key !== null) {
      return this.keyed({ topic, partitionMetadata: partitions, message });
    }
    const led = partitions.filter((p) => p.leader >= 0);
    const preferred = led.filter((p) => !this.avoided(p.leader));
    const pool = preferred.length > 0 ? preferred : led.length > 0 ? led : partitions;
    const n = (this.counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1;
    this.counters.set(topic, n);
    return pool[n % pool.length]!.partitionId;
  }
}
