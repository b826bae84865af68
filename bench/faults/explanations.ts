import type { ScenarioResult } from './scenarios';

/** The text above the table. */
export const PREAMBLE = `Produced by \`npm run faults\` (\`npx tsx bench/faults/run-faults.ts\`), which anyone can re-run:
it starts a private Kafka (KRaft) and Redis with \`scripts/stack.sh\` (or uses \`KAFKA_BROKERS\` and
\`REDIS_URL\`), and for each scenario a fresh deployment — \`http\` replicas and \`relay\` processes as
separate \`node dist/cli/main.js serve\` processes, an echo service on its own topic — with its own
topics, relay group and key prefix. \`--quick\` runs the same scenarios with less load and shorter
durations; \`test/integration/faults.test.ts\` runs scenarios 1, 2, 3, 4 and 6 that way and asserts their
invariants. Every scenario first asserts that its fault happened and hurt what it should hurt, then
that the system recovered.

Scenarios 9-11 need brokers to kill and restart, so they run on a second private stack that the
harness starts itself (\`STACK_KAFKA_BROKERS=3\`: three KRaft nodes, each broker and controller,
replication factor 3, \`min.insync.replicas=2\`, \`broker.session.timeout.ms=5000\`, and a Redis of its
own; \`--cluster-stack-dir DIR\` keeps it). Half their requests go to a keyed route, half to a keyless
one; the echo service answers up to 16 requests of a partition at once (a reply written to three
replicas with \`acks=all\` takes longer, and one at a time it fell behind the full load before any fault).
Each of them first checks that the deployment kept up with the load before the fault. They run at
150 req/s (\`THREE_BROKER_RATE\`), not 300: on this two-core machine three broker JVMs writing every
message three times (\`acks=all\`) beside the replicas, the echo service and the harness did not keep up
with 300 req/s even after a 30 s warm-up (load average 11, a third of the warm-up answered), and a
fault judged on a deployment already behind proves nothing.

Scenarios 14-16 run on a Redis Cluster (\`STACK_REDIS_SHAPE=cluster\`: three masters, three replicas,
\`cluster-node-timeout\` 2000 ms) or a Sentinel set (\`STACK_REDIS_SHAPE=sentinel\`: a primary, two
replicas, three sentinels, quorum 2, \`down-after-milliseconds\` 2000 ms) of their own, each with one
Kafka broker (\`--redis-stack-dir DIR\` keeps them), the gateways configured with
\`REDIS_CLUSTER_NODES\` / \`REDIS_SENTINELS\` as the README says. No reply may be lost: every 503 or 504
whose reply reached the reply topic must be in Redis afterwards. The harness polls every partition's leader and ISR every 100 ms during the run: the windows it
reports are measured, not inferred, and every error must fall in one of them (see scenario 9).

The load is open-loop: requests start at a fixed rate whatever the answers take. Each scenario first
runs the same load, not judged, for at least 3 s (1 s with \`--quick\`) and then until the deployment
keeps up (every request of the last second whose answer is due answered 200), at most 30 s (15 s), so
its figures are the fault's and not the deployment's first seconds (JIT, connections, first group
joins; a freshly started broker took about 12 s at 300 req/s); what the warm-up saw, how long it took
and whether it ended keeping up are in its facts (\`warmUp\`). Each request body
carries a unique id that the echo reply must carry back (otherwise "wrong reply"). A small load
balancer in the harness polls \`/readyz\` every 200 ms to keep its rotation, fails open when no
replica is ready, and — as a load balancer would — retries on another replica a request refused
before it reached a gateway (connection refused) or refused by a draining or starting replica
(503 \`RG_UNAVAILABLE\`), at most 5 times and only while a whole attempt (route timeout + 3 s) still fits
in the client's time, else the refusal is the answer; those are counted as "LB retries" and judged by
their final answer.
"Never answered" means no answer within the route timeout + 10 s (client side). "Dropped" means
the connection closed before an answer. Duplicates absorbed (\`replygate_relay_writes_total{result="duplicate"}\`)
and late replies (\`replygate_late_replies_total\`) are scraped from every process every second and
summed (a SIGKILLed process contributes what was read before it died).`;

const n = (r: ScenarioResult, key: string): number =>
  Object.entries(r.errors).reduce((s, [k, v]) => (k.startsWith(key) ? s + v : s), 0);

/** One paragraph per scenario: what it does and why every non-zero error or never-answered happens. */
export const EXPLANATIONS: Record<number, (r: ScenarioResult) => string> = {
  1: (r) => {
    const v = (r.facts['victims'] as { name: string; group: number; partitions: number[] }[] | undefined)?.[0];
    return `The production topology: two relay groups (\`REPLYGATE_RELAY_GROUPS=2\`), one relay in each, so each
relay reads every reply partition and the first write of a reply wins (\`SET NX\`). The relay that had
stored the most replies (${v?.name ?? '?'}, group ${String(v?.group)}, partitions ${JSON.stringify(v?.partitions)}) is
SIGKILLed. It does not leave its group: its partitions stay assigned to it until its session expires
(\`REPLYGATE_RELAY_SESSION_TIMEOUT_MS\`, ${String(r.facts['relaySessionTimeoutMs'] ?? 10000)} ms here; it left after
${JSON.stringify(r.facts['leftItsGroupAfterMs'])} ms), and its group, now empty, reads nothing more. The other group's relay
was writing the same replies all along, so nothing waits: **${n(r, '504')} × 504** with a ${r.load.routeTimeoutMs} ms route
timeout. "Duplicates absorbed" are the second writes, refused by \`SET NX\` (they wake nobody and are not
counted as stored or late). Scenario 12 is the same kill with one relay group.`;
  },
  2: (r) =>
    `Each http replica, then each relay, gets SIGTERM; the harness waits for it to exit and starts a
replacement before the next. A draining replica turns \`/readyz\` 503, answers new requests 503
\`RG_UNAVAILABLE\` (retried by the load balancer: ${r.retried} requests), finishes its parked requests and
exits 0; a relay leaves its group cleanly, so its partitions move at once. Zero timeouts.
${r.dropped.originDown > 0 ? `${r.dropped.originDown} connection(s) dropped by a stopping replica: a request written on an idle keep-alive connection at the instant the stopping server closed it (the HTTP/1.1 keep-alive race; the gateway now sends \`Connection: close\` while draining so clients stop reusing connections, which narrows it to that instant). A load balancer retries such a reset on a reused connection; this harness counts it instead.` : 'No connection was dropped.'}`,
  3: (r) =>
    `One of three http replicas is SIGKILLed. Its in-flight clients see their connection dropped
(${r.dropped.originDown}, expected); new connections to it are refused and retried on the others by the load balancer
(${r.retried}); the other replicas answer everything. The replies of the dead replica's requests are still
stored by the relays (${String(r.facts['keysOfDeadReplicaJustAfterKill'])} keys \`<prefix>reply:<deadInstanceId>.*\` just after the kill, including replies already
read, which are not deleted) and all expire by their TTL (\`REPLYGATE_REPLY_TTL_MS\`=${String(r.facts['replyTtlMs'])}): ${String(r.facts['orphanedKeysAfterTtl'])} left.`,
  4: (r) =>
    `Redis is restarted in place (${String(r.facts['how'])}; it keeps nothing on disk). While it is away every replica's
\`/readyz\` is 503 and new requests answer **503 \`RG_UNAVAILABLE\` with \`Retry-After\`** (${n(r, '503')} here;
not retried by the load balancer since every replica is in the same state). Parked requests
stay parked; the relays keep retrying their writes without committing; once Redis is back each replica re-subscribes and
re-reads the keys of all its pending requests with MGET, so a reply written during the gap is not missed.
A Redis that comes back with a new \`run_id\` has lost the replies it held: each relay then re-reads the
last \`REPLYGATE_REPLY_TTL_MS\` of replies on its partitions and writes them again (\`SET NX\`), so a reply
stored just before the restart and wiped with it still reaches its waiter. Those rewrites are why this
row counts ${r.lateReplies} "late replies": most are replies already delivered before the restart, written
again and announced to an origin that no longer waits for them. A deadline read that fails because Redis is
away answers 503 (a reply may exist), not 504.
${n(r, '504') > 0 ? `**${n(r, '504')} × 504 remain unexplained** — see Open items at the end.` : 'No request timed out.'} All replicas were ready again ${String(r.facts['allReadyAgainMs'])} ms after the restart began.`,
  5: (r) =>
    `The broker is restarted (SIGTERM, start, ${String(r.facts['restartCommandMs'])} ms). Requests the producer cannot get
acknowledged by their deadline answer **503 \`RG_PUBLISH_FAILED\`** (${n(r, '503')}): before this issue they answered 504
because kafkajs keeps retrying a send longer than a route timeout (fixed in \`KafkaRequestPublisher\`). The
**${n(r, '504')} × 504** are requests Kafka did acknowledge just before it stopped, whose reply could not travel
while the broker was away (request consumed by the echo service, reply produced after the restart past the deadline: those
are the ${r.lateReplies} late replies), or that the service dropped as expired. Nothing hangs (never answered 0), and
the gateway, the relays and the service recover by themselves (last 3 s: ${String(r.facts['lastThreeSecondsOk'])} answered).
\`/readyz\` turned 503 ${String(r.facts['readyzTurned503'])} times: each replica's \`KafkaProbe\` asks for the reply topic's
metadata every 2 s and reports Kafka unreachable after two misses (so an outage shorter than ~5 s may not
show on \`/readyz\`; requests still get a fast 503).`,
  6: (r) =>
    `Three routes share the load: \`echo\` (answered at once), \`silent\` (a topic nobody consumes) and
\`late\` (the echo service with \`?delayMs=1500\`), the last two with a 1000 ms timeout. Every \`silent\`
and \`late\` request answers 504 at its deadline (${n(r, '504')} × 504, ${JSON.stringify(r.facts['silent504LatencyMs'])} ms);
every \`echo\` one is answered. The late replies are still stored in Redis (${String(r.facts['lateRepliesStoredInRedis'])}) and
counted by their origin as late (${r.lateReplies}). The slow service takes one request at a time per
partition, so requests queued behind a slow one pass their deadline; the responder kit drops them
unanswered (\`stats.expired\` = ${String((r.facts['slowResponder'] as { expired?: number } | undefined)?.expired)}).`,
  7: (r) =>
    `Kafka is stopped for 3 s, started, stopped for 2 s and started again (\`scripts/stack.sh stop|start kafka\`,
${String(r.facts['flapMs'])} ms in all). kafkajs gives up for good on a consumer after some errors of such a flap ("Failed to
find group coordinator", a crash with \`restart: false\`); the relays and the echo service then rebuild their consumer
with backoff (\`SupervisedConsumer\`; relay consumer rebuilds ${JSON.stringify(r.facts['relayConsumerRestarts'])}). Requests during the
outage fail (${String(r.facts['failedDuringOutage'])}: 503 while Kafka is unreachable, 504 for those published before it went), every
replica is ready again ${String(r.facts['allReadyAfterFlapMs'])} ms after the flap began; the first request is answered
${String(r.facts['firstOkAfterReadyMs'])} ms later (the echo group waits out the session timeout of its members that crashed),
and every request sent from a second after that is answered (${String(r.facts['okAfterRecovery'])}).`,
  8: (r) =>
    `Every Redis client connection is killed (\`CLIENT KILL TYPE pubsub\`, then \`normal\`): the replicas reconnect within
${String(r.facts['allReadyAgainMs'])} ms. A reply written while a replica's subscriber was reconnecting sends its notification
to nobody; the replica re-reads every pending reply once its subscription is back (\`resync\`, one \`MGET\`), so no
request is answered only by the last read at its deadline (${String(r.facts['okOnlyAtTheDeadline'])} such answers; with the
resync switched off on purpose, 3 of 643 requests were). Refusals during the gap: ${String(r.facts['503WithRetryAfter'])} × 503 with
\`Retry-After\`.`,
};

const w = (r: ScenarioResult, kind: string, topic: string): string => {
  const x = (r.facts[kind] as Record<string, { longestMs: number; partitions: number }> | undefined)?.[topic];
  return x === undefined ? '?' : `${x.longestMs} ms (${x.partitions} partitions)`;
};
const f = (r: ScenarioResult, key: string): string => JSON.stringify(r.facts[key] ?? null);

/** The three-broker scenarios: what a failover costs and why. */
const CLUSTER_EXPLANATIONS: Record<number, (r: ScenarioResult) => string> = {
  9: (r) =>
    `The broker leading the most reply-topic partitions (${f(r, 'victim')}, leading ${f(r, 'victimLedBeforeKill')}; active KRaft
controller: ${f(r, 'victimWasActiveController')}) is SIGKILLed. The group names are chosen so that it coordinates neither the
relay group nor the echo service's group: this is a partition-leader failover only. Until the controller fences the dead
broker (\`broker.session.timeout.ms\`, 5000 ms here, Kafka's default 9000, plus a quorum election when it was the active
controller; here leadership moved after ${f(r, 'leadershipMovedAfterMs')} ms) no \`acks=all\` write completes anywhere: its
partitions keep it as their leader, and every other partition keeps it in its ISR (with replication factor 3 on three
brokers every partition has a replica there), and a leader waits for every ISR member. Measured from the metadata: longest
window without a live leader ${w(r, 'leaderlessWindows', 'requestTopic')} on the request topic, ${w(r, 'leaderlessWindows', 'replyTopic')} on the reply
topic; longest with the dead broker still in the ISR ${w(r, 'writeBlockedWindows', 'requestTopic')} / ${w(r, 'writeBlockedWindows', 'replyTopic')}.
Requests in flight in that window whose route timeout (${r.load.routeTimeoutMs} ms) ended first fail: **${n(r, '503')} × 503
\`RG_PUBLISH_FAILED\`** (Kafka had not acknowledged the request by its deadline; the producer retries until the deadline, so
a request sent shortly before the fence is published late rather than refused) and **${n(r, '504')} × 504** (published, but
the echo service could not take it or write its reply in time): ${f(r, 'timeoutsWhoseReplyWasStoredLate')} of them have their
reply stored later (none lost), ${f(r, 'timeoutsTheServiceDroppedAsExpired')} reached the service after their deadline and were dropped
by it, as the responder kit does (\`stats.expired\`). Keyed and keyless routes fail alike (${f(r, 'errorsByRoute')}): the blocked ISR
stops writes to every partition, so no partition choice helps before the fence. Every error falls in a measured window
(${f(r, 'errorsExplainedBy')}); errors by second from the kill: ${f(r, 'errorsPerSecondFromFault')}. The relays and the echo consumer
resume about a second after the fence (their metadata is refreshed every 2 s), with no consumer rebuilt
(${f(r, 'relayConsumerRestarts')}). A route timeout longer than the window turns these errors into latency.`,
  10: (r) =>
    `The relay group's coordinator is SIGKILLed: the leader of its \`__consumer_offsets\` partition (${f(r, 'relayGroupCoordinator')}; it
also leads ${f(r, 'victimLedBeforeKill')}, active controller: ${f(r, 'victimWasActiveController')}). Writes stall everywhere until the fence, as in
scenario 9 (leadership moved after ${f(r, 'leadershipMovedAfterMs')} ms). On top of that the relays lose their group: kafkajs never looks for a
new coordinator after a refused connection (\`consumerGroup.coordinator\` is set only when joining; heartbeats keep dialling
the dead node), so each relay's consumer crashes once its retries are spent, is rebuilt by \`SupervisedConsumer\`
(${f(r, 'relayConsumerRestarts')} rebuilds) and joins again, and the new coordinator waits out the dead members' session
(\`REPLYGATE_RELAY_SESSION_TIMEOUT_MS\`, 10000 ms by default) before the group is stable. Replies wait in Kafka meanwhile:
**${n(r, '504')} × 504** (${f(r, 'timeoutsWhoseReplyWasStoredLate')} with their reply stored later, none lost; ${f(r, 'timeoutsTheServiceDroppedAsExpired')}
dropped by the service as expired) and **${n(r, '503')} × 503** (not acknowledged by the deadline). The rebuilt relays re-read
from the last commit: ${r.duplicatesAbsorbed} duplicates absorbed. Errors by second from the kill:
${f(r, 'errorsPerSecondFromFault')}; explained by ${f(r, 'errorsExplainedBy')}.`,
  11: (r) =>
    `Each broker in turn gets SIGTERM (controlled shutdown: it hands its leaderships over and leaves the ISRs before it stops),
is started again, and the next one waits until it is back in the ISR of every partition of every topic, as an upgrade would
(${f(r, 'steps')}). The returning broker boots at nice 10 with C1-only JIT (\`-XX:TieredStopAtLevel=1\`; \`STACK_KAFKA_NICE\`,
\`STACK_KAFKA_JVM_OPTS\`) and is set back to nice 0 once it serves: on a real cluster it boots on its own host, while here its
JVM start and C2 warm-up starved the two serving brokers, the gateway and the harness on two cores (starts of 18-22 s, load
average 13), and once back in the ISR the cold follower held every \`acks=all\` write of its partitions to its pace: with the
boot niced but C2 kept, every request failed from its ISR return until the next step (raw \`2026-12-02T13-25-46.json\`,
785 × 504 of 11003). No write waits for a dead replica here: longest window without a live leader
${w(r, 'leaderlessWindows', 'requestTopic')}. The producer sees \`NOT_LEADER_FOR_PARTITION\` at most and sends again at once;
consumers follow the leaders without a rebalance: kafkajs alone rejoins its group when a fetch meets a moved leader or a
heartbeat a moved coordinator, and \`kafka/group-recovery\` makes it refresh metadata or find the coordinator again
instead (group joins after the first SIGTERM: ${f(r, 'rejoinsAfterFault')}).
${countErrors(r) === 0 ? '**Zero errors.**' : `**${countErrors(r)} errors** (${JSON.stringify(r.errors)}; by second from the first SIGTERM ${f(r, 'errorsPerSecondFromFault')}): see Open items.`}
How busy the machine was: ${f(r, 'machine')} (each broker start is a JVM start, several CPU-seconds on this machine).`,
};

const countErrors = (r: ScenarioResult): number => Object.values(r.errors).reduce((a, b) => a + b, 0);

Object.assign(EXPLANATIONS, CLUSTER_EXPLANATIONS);

/** Relays SIGKILLed beside scenario 1 (bench/faults/relay-scenarios.ts). */
Object.assign(EXPLANATIONS, {
  12: (r: ScenarioResult) =>
    `Scenario 1 with one relay group (\`REPLYGATE_RELAY_GROUPS=1\`, the behaviour before issue 16): two relays share
the partitions, and the one that had stored the most is SIGKILLed. Its partitions
(${JSON.stringify((r.facts['victims'] as { partitions: number[] }[] | undefined)?.[0]?.partitions)}) stay assigned to it until its session expires
(${String(r.facts['relaySessionTimeoutMs'] ?? 10000)} ms; it left after ${JSON.stringify(r.facts['leftItsGroupAfterMs'])} ms) and nobody reads them meanwhile:
the requests whose reply landed there answer 504 at their ${r.load.routeTimeoutMs} ms deadline, **${n(r, '504')} × 504** here
(sent between ${JSON.stringify(r.facts['504sSentBetweenMsAfterKill'])} ms after the kill). None is lost: the surviving relay
re-reads from the last committed offset and stores every one of them
(${String(r.facts['timeoutsWhoseReplyWasStoredLate'])} of ${String(r.facts['timeouts'])}; they are the late replies counted).`,
  13: (r: ScenarioResult) => {
    const victims = (r.facts['victims'] as { name: string; group: number; partitions: number[] }[] | undefined) ?? [];
    return `Two relay groups of two relays each. The relay that had stored the most replies and, in the other group,
the relay owning most of the same partitions (its "backup") are SIGKILLed at the same moment:
${victims.map((v) => `${v.name} (group ${v.group}, partitions ${JSON.stringify(v.partitions)})`).join(' and ')}. A partition both
of them owned, ${JSON.stringify(r.facts['partitionsBothVictimsOwned'])}, has no live reader in either group until the sessions expire
(${JSON.stringify(r.facts['leftItsGroupAfterMs'])} ms): the requests whose reply landed there answer 504, **${n(r, '504')} × 504**
(${JSON.stringify(r.facts['timeoutsByReplyPartition'])} by reply partition of those whose reply was sent; ${f(r, 'timeoutsWhoseReplyWasStoredLate')} stored later, none
lost; ${f(r, 'timeoutsTheServiceDroppedAsExpired')} reached the echo service after their 1000 ms deadline and were dropped by it, \`stats.expired\`). The groups split the
partitions differently (\`relay/striped-assigner.ts\`: stripes in one group, ranges in the other), so any
relay of one group shares about partitions / relays² of its partitions with any relay of the other (1 of 4
here); with kafkajs' round robin both groups split alike and a pair shared all of theirs (2 of 4: 367 × 504
in a quick run before the striped assigner, 181 with it). Two relays per group is also what makes a double kill survivable at all: with one
relay per group, both dying leaves every partition unread until one is restarted. A 504 whose reply landed on another
partition counts against the relay tier only if the reply landed by its deadline (less 300 ms: a fetch
wait and a write)${r.facts['timeoutsElsewhereWhoseReplyLandedAfterTheDeadline'] === undefined ? ' (this run had the earlier judge: see Open items)' : `; ${f(r, 'timeoutsElsewhereWhoseReplyLandedAfterTheDeadline')} landed after it (the echo service was late)`}.`;
  },
});

/** The Redis Cluster and Sentinel scenarios (bench/faults/redis-scenarios.ts). */
const REDIS_SHAPE_EXPLANATIONS: Record<number, (r: ScenarioResult) => string> = {
  14: (r) =>
    `A Redis Cluster (three masters, three replicas, \`cluster-node-timeout\` 2000 ms) with the gateways given
\`REDIS_CLUSTER_NODES\`. The master holding the most of this deployment's reply keys (${f(r, 'victim')}, ${f(r, 'victimReplyKeys')}
keys, slots ${f(r, 'victimSlots')}) is SIGKILLed. Until the other masters mark it failed (the node timeout) and its replica
(${f(r, 'itsReplicas')}) wins the election, its slots have no master: with Redis' default \`cluster-require-full-coverage yes\` the
whole cluster answers \`CLUSTERDOWN\` meanwhile, so every reply write and every read fails, not only those of its slots.
${f(r, 'promoted')} was master of its slots and every node \`cluster_state:ok\` after ${f(r, 'promotedAndClusterOkAfterMs')} ms.
Errors: ${JSON.stringify(r.errors)}, in the window ${f(r, 'errorWindowMsFromFault')} ms from the kill (by second: ${f(r, 'errorsPerSecondFromFault')}).
Of them ${f(r, 'errorsWithAReplyOnTheTopic')} had their reply on the reply topic and ${f(r, 'ofThemStoredInRedisLater')} have it in Redis afterwards
(written by the relays once the new master took writes, or rewritten after they saw the master change); ${f(r, 'errorsNeverPublished')} were
refused before publishing and ${f(r, 'errorsPublishedWithoutReply')} reached the service after their deadline. Replies answered only by
the deadline read: ${f(r, 'okOnlyAtTheDeadline')}, their replies landing on the topic ${f(r, 'okOnlyAtTheDeadlineReplyLandedMsFromFault')} ms
from the kill and stored in Redis ${f(r, 'okOnlyAtTheDeadlineStoredMsFromFault')} ms from it (the key's remaining TTL tells when; stored
${f(r, 'okOnlyAtTheDeadlineStoredMsAfterLanding')} ms after landing, ${f(r, 'okOnlyAtTheDeadlineStoredMsBeforeDeadline')} ms before the
deadline): while the cluster was down the relays could not store them, then wrote the outage's backlog, and one stored just
before its deadline is found by that read; ${f(r, 'okOnlyAtTheDeadlineHeldByTheKilledMaster')} of them were held by the killed master (written
just before the kill, replicated, and readable again only after the promotion). Readable ≥ 1 s before the deadline and still not
woken (a missed wake: the wake subscribes on the promoted master and re-reads the pending keys): ${f(r, 'okOnlyAtTheDeadlineReadableASecondBefore')}. Latency of the answered requests
before the kill and from 2 s after recovery: ${f(r, 'okLatencyMs')}. Machine: ${f(r, 'machine')}.`,
  15: (r) =>
    `A primary with two replicas watched by three sentinels (quorum 2, \`down-after-milliseconds\` 2000) and the gateways given
\`REDIS_SENTINELS\` + \`REDIS_SENTINEL_MASTER\`. The primary ${f(r, 'victim')} (${f(r, 'replyKeysOnThePrimary')} reply keys) is SIGKILLed; the
sentinels agree it is down, elect a leader and promote ${f(r, 'newPrimary')}, named as primary ${f(r, 'sentinelsNamedANewPrimaryAfterMs')} ms after
the kill. Clients find the new primary through the sentinels (\`+switch-master\`). Errors: ${JSON.stringify(r.errors)}, in the window
${f(r, 'errorWindowMsFromFault')} ms from the kill (by second: ${f(r, 'errorsPerSecondFromFault')}); ${f(r, 'errorsWithAReplyOnTheTopic')} had their reply on the
topic, ${f(r, 'ofThemStoredInRedisLater')} of them are in Redis afterwards; ${f(r, 'errorsNeverPublished')} never published,
${f(r, 'errorsPublishedWithoutReply')} dropped by the service as expired. Answered only by the deadline read: ${f(r, 'okOnlyAtTheDeadline')}
(replies landing ${f(r, 'okOnlyAtTheDeadlineReplyLandedMsFromFault')} ms from the kill, stored ${f(r, 'okOnlyAtTheDeadlineStoredMsFromFault')} ms
from it, every key held by the killed primary until the promotion; readable ≥ 1 s before the deadline, a missed wake:
${f(r, 'okOnlyAtTheDeadlineReadableASecondBefore')}).
Latency: ${f(r, 'okLatencyMs')}. Machine: ${f(r, 'machine')}.`,
  16: (r) =>
    `\`redis-cli --cluster reshard\` moves ${f(r, 'slotsMoved')} slots from ${f(r, 'from')} (the master holding the most reply keys) to
${f(r, 'to')} under load, the ${f(r, 'replySlotsMoved')} slots with reply keys (${f(r, 'replyKeysInMovedSlots')} keys) among them, in ${f(r, 'reshardMs')} ms.
While a slot migrates, a key already moved answers \`ASK\` and one not yet moved is served by the source; clients follow
\`ASK\` / \`MOVED\`. A reply written on the target sends its keyspace notification there: the wake must listen on every master
and re-read the pending keys of a slot that changed hands. Errors: ${JSON.stringify(r.errors)}; answered only by the deadline read:
${f(r, 'okOnlyAtTheDeadline')}; latency ${f(r, 'okLatencyMs')}. Machine: ${f(r, 'machine')}.`,
};

Object.assign(EXPLANATIONS, REDIS_SHAPE_EXPLANATIONS);

/** The event-await route under faults (bench/faults/event-scenarios.ts, issue 15). */
const EVENT_EXPLANATIONS: Record<number, (r: ScenarioResult) => string> = {
  17: (r) =>
    `\`POST /order/:id\` is an event-await route: the gateway registers the waiter in Redis, publishes the command, and a
plain kafkajs service (no replygate header) emits \`CREATED\` then \`VALIDATED\` for the order on the event topic (6
partitions, keyed by the order id); the answer must be this order's \`VALIDATED\` event. The relays read the event topic in
one event group (\`REPLYGATE_EVENT_GROUP\`), one relay group with two relays: the topology before redundant groups
(scenario 19 is the production one). The relay owning the most
event partitions (${f(r, 'victim')}, partitions ${f(r, 'victimEventPartitions')}) is SIGKILLed. It stays a member of the event group,
owning those partitions, until its session expires (\`REPLYGATE_RELAY_SESSION_TIMEOUT_MS\`, ${f(r, 'relaySessionTimeoutMs')} ms; it left after
${f(r, 'leftEventGroupAfterMs')} ms), and nobody reads them meanwhile: every request whose order id hashes to one of them answers
**504** at its ${r.load.routeTimeoutMs} ms deadline (${n(r, '504')} here; each checked against the partition its event landed on and the
window from the kill to the rebalance after the victim left: ${f(r, 'timeoutsUnexplained')} unexplained). Events the survivor reads
after the rebalance find their waiters expired and answer nobody (a route with \`timeoutResponse: 202\` keeps its waiter
for twice its timeout and would get them); one read a few milliseconds after its request's 504 (the waiter's registration
outlives the parked request by the time between building and parking it) is stored and counted as a late reply (${r.lateReplies}).
The other partitions' requests are answered throughout; last 3 s: ${f(r, 'lastThreeSecondsOk')}.`,
  18: (r) =>
    `The same event-await route while Redis restarts without persistence (${f(r, 'how')}): the waiters' registrations and the
answers written but not yet read vanish with it. Here the service emits its events ${f(r, 'eventServiceDelayMs')} ms after the command
(validation takes a while), so the restart finds many requests waiting (${f(r, 'waitingWhenRedisWentAway')} here), and the route timeout is
${r.load.routeTimeoutMs} ms, longer than the recovery below, so each of them must still be answered. While Redis is away \`/readyz\` is 503
and new requests answer **503 \`RG_UNAVAILABLE\` with \`Retry-After\`** (${n(r, '503 RG_UNAVAILABLE')}); a request admitted just before the
connection dropped fails to register its waiter, the first step of its publish (nothing reaches Kafka), and answers 503
\`RG_PUBLISH_FAILED\` (${n(r, '503 RG_PUBLISH_FAILED')}; the code says Kafka, the cause is Redis). The event relays keep retrying their Redis
writes without committing. When a replica sees Redis back with a new \`run_id\` it registers again the event waiters of its
parked requests with their original registration time (so an event older than the command still never answers it), and the
event relays re-read the event topics ${f(r, 'eventRewindDelayMs')} ms later (after those re-registrations), covering the events they
handled while the waiters were missing. Of the requests waiting when Redis went away, ${f(r, 'waitingWhenRedisWentAwayOk')} answered 200.
A **504** (${n(r, '504')}) is explained only if its deadline came before the re-read could answer it (every replica ready again +
${f(r, 'eventRewindDelayMs')} ms + 3000 ms for the re-read); with the re-registration switched off (the code changed to skip it) the same
quick run had 166 × 504 with deadlines after that, so this check is what catches lost waiters. Late replies (${r.lateReplies}) would be
answers stored after their request's 504. All ready again after ${f(r, 'allReadyAgainMs')} ms; last 3 s: ${f(r, 'lastThreeSecondsOk')}.`,
  19: (r) =>
    `Scenario 17 in the production topology: two relay groups (\`REPLYGATE_RELAY_GROUPS=2\`), one relay in each, and the
event consumers follow them (\`REPLYGATE_EVENT_GROUP\` for group 0, \`<REPLYGATE_EVENT_GROUP>-1\` for group 1), so every event
partition is read twice. Answers are \`SET NX\` (the second write of an answer is absorbed) and an entity's kept state never goes back
to an older event, so the double read is safe; it costs one more read of the event topics and their Redis commands. The relay
of the first event group (${f(r, 'victim')}, partitions ${f(r, 'victimEventPartitions')}) is SIGKILLed and stays a member of its group until its
session expires (left after ${f(r, 'leftEventGroupAfterMs')} ms); the other group's relay keeps reading every event partition, so no
waiter may answer 504 (${n(r, '504')} here). Last 3 s: ${f(r, 'lastThreeSecondsOk')}.`,
};

Object.assign(EXPLANATIONS, EVENT_EXPLANATIONS);

/** Measurements kept beside the generated table (filled from separate runs named in the text). */
export const APPENDIX = `## Relay session timeout, one relay group (before issue 16: scenario 1 at 300 req/s, route timeout 3000 ms)

The single-group relay kill (scenario 12's set-up, then scenario 1), full load, route timeout 3000 ms,
run with \`--scenario 1 --env REPLYGATE_RELAY_SESSION_TIMEOUT_MS=<n>\` before redundant relay groups
existed (raw files in \`bench/faults/results/\`). With two groups (scenario 1 now) the session timeout
no longer decides anything for a single relay death:

| session timeout | group failed over after | 504 (all replies stored late, none lost) | answered ok | raw |
|---|---|---|---|---|
| 30000 ms (the old hard-coded value) | 30492 ms | 4126 of 13498 | 9372 | \`2026-11-23T17-49-52.json\` |
| 10000 ms (the default) | 10518 ms | 1123 of 13498 | 12375 | \`2026-11-23T17-48-48.json\` |
| 6000 ms (the broker's floor) | 6588 ms | 513 of 13499 | 12986 | \`2026-11-23T17-50-41.json\` |

## Three brokers: what the failover window depends on (scenarios 9-11)

- **\`broker.session.timeout.ms\`** (Kafka's default 9000 ms; 5000 on the local stack, with
  \`broker.heartbeat.interval.ms=1000\`): how long the controller waits before it fences a broker that
  stopped heartbeating. Until then a dead broker stays the leader of its partitions and a member of
  the ISR of every partition it replicates, and with \`acks=all\` (the gateway's producer, the
  responder kit's replies) no write to those partitions completes; with replication factor = number
  of brokers, that is every partition. A crash costs every request in flight up to that long.
- **Which node dies**: when it is also the active KRaft controller, the quorum elects a new one first
  (\`controller.quorum.fetch.timeout.ms\` 2000 and \`controller.quorum.election.timeout.ms\` 1000 by default),
  and that controller fences the dead broker only once its session expires from its own point of view.
- **The route timeout**: the publisher sends a refused request again (every ≤ 500 ms, metadata
  refreshed by the failure) until the request's deadline, so a route timeout longer than the window
  turns the errors into latency.
- **Group coordinators**: a kafkajs consumer never looks for a new coordinator after a refused
  connection; the member crashes after its retries (the relay's: 10, up to 3 s apart) and is rebuilt,
  and the new coordinator waits out the old member's session (\`REPLYGATE_RELAY_SESSION_TIMEOUT_MS\`;
  a responder's \`sessionTimeoutMs\`, 10000 by default since 2026-12-02, kafkajs' 30000 before). The relay group is out for about the larger of fence + session
  timeout and the relay's retry time.
- **What is ours and set**: producer \`acks=-1\`, kafkajs' own producer retries off (they lose messages on a
  leader change, kafkajs issue #1303) and retries per partition leader until the deadline instead;
  producer \`metadataMaxAge\` 5 s; consumers (relays, responders) refresh metadata every 2 s
  (\`CONSUMER_METADATA_MAX_AGE_MS\`: kafkajs does not on a refused connection, and its 300 s default
  left a consumer stalled long after the fence) and wait at most 500 ms between fetch retries
  (\`CONSUMER_RETRY\`; kafkajs restarts all of a consumer's fetchers after any one fails, and its backoff
  keeps doubling over a consumer's life; the relay still sets its own, up to 3000 ms); keyless requests avoid partitions whose leader a send
  just failed to reach, which helps only after the fence (before it every partition is blocked).
- **\`min.insync.replicas=2\`**: one broker down, writes go on; two down, every write is refused
  (\`NOT_ENOUGH_REPLICAS\`, retried until the deadline, then 503).

## Open items

- **Relay failover after a SIGKILL** is bounded below by the consumer-group session timeout (the
  broker's \`group.min.session.timeout.ms\`, 6000 ms by default) inside one group. With two redundant
  relay groups (scenario 1, the production topology) one relay death costs no request a timeout; two at
  once, one in each group, still do for the partitions both owned (scenario 13), and with one group
  (scenario 12) every request whose reply sits on the dead relay's partitions and whose route timeout is
  shorter answers 504 (replies stored later, none lost; fetchable on routes with \`timeoutResponse: 202\`).
- **Kafka outages shorter than the probe's detection window** (~5 s) do not show on \`/readyz\`.
- **Late-reply counter after a Redis restart** also counts the relay's rewrites of already-delivered replies.
- **Rolling broker restart** (scenario 11): **0 errors in the run above** (full run
  \`2026-12-03T06-50-25.json\`, 9408 requests, load average 9.7), but not reliably zero on this machine:
  the full run \`2026-12-02T17-18-20.json\` had 48 × 504 of 15179, and a run of it alone right after the
  one above (\`2026-12-03T07-09-19.json\`) 16 × 504 of 10139: requests sent in the two seconds after the
  first broker came back, whose request was written within 0.7 s but whose reply took 2.1-2.7 s, the
  echo service's \`acks=all\` reply writes waiting on the cold follower that had just rejoined the ISR
  (load average 11, the harness' event loop 459 ms late at p99). In every miss, every request was
  published and every reply stored (no 503, no reply lost): the errors are 504s of requests whose two
  Kafka legs each took one to two seconds while leaderships moved (\`errorPaths\` in the raw file:
  request written 0.7-2 s after its send, reply 1.6-2 s after that), with the load average at 12 on two
  cores and the harness' own event loop delayed 605 ms at p99. The returning broker boots at nice 10
  with C1-only JIT and is reniced once it serves (on a real cluster it boots on its own host); with a
  plain start it was far from zero (raw \`2026-12-02T04-20-33.json\`: 3934 errors of 18459). Runs
  since: without a leader election between steps, 0 errors alone (\`13-29-03\`, \`13-31-47\`,
  \`14-17-20\`, \`14-18-24\`, \`14-19-39\`) and in the full runs \`13-50-43\` and \`2026-12-03T06-50-25\`,
  4 × 504 (full run \`14-14-37\`), 17 (full run \`14-39-11\`: the last broker led every partition and its
  stop moved 7 at once), 48 (full run \`17-18-20\`); with a preferred leader election after each broker
  (as upgrade runbooks do, \`scripts/stack.sh elect-leaders\`), 0 (\`16-15-03\`, alone), 9 (full run
  \`16-36-47\`), 393 and 12 (alone, \`16-41-29\`, \`16-44-15\`): each election's moves onto the broker
  just restarted cost as much as a stop's, so the harness elects once, before the load. Three brokers,
  four gateway processes, the service and the load generator share two cores here. What the remaining
  window depends on: how fast the controller moves leaderships and the clients see it
  (\`controlled.shutdown\`, metadata propagation), CPU, and the route timeout (3000 ms here);
  replygate's retries are bounded by each request's deadline and never gave up on a publish in these
  runs.
- **Scenario 5 failed once** (a single broker restarted; full run \`2026-12-02T13-50-43.json\`): nothing
  was answered in the 20 s after the restart (2111 of 8999 ok) and the run kept no logs. Four runs of
  it alone and the next full run held. The likely cause: the echo service's consumer rebuilt after
  the restart and its group waiting out the old member's session, then kafkajs' 30 s; the responder
  kit's \`sessionTimeoutMs\` is now 10000 by default. Every run now keeps each scenario's replica logs
  in \`.stack/faults-logs/<run>\`.
- **A responder's session timeout** was kafkajs' 30000 ms until 2026-12-02, and the responder kit had no
  option for it: a responder whose consumer was rebuilt (its coordinator died, or a broker restart made
  kafkajs give up) was out for about that long. It is now \`sessionTimeoutMs\`, 10000 by default.`;
