/**
 * What one more replica's PSUBSCRIBE pattern costs a Redis node: each SET of a reply key publishes
 * a keyspace notification that the node matches against every pattern subscribed there (one of
 * them, the owner's, matches). On a cluster each replica subscribes its pattern on every master
 * (docs/ARCHITECTURE.md, "Redis Cluster"), so a master carries one pattern per replica, as a
 * single Redis does. Measures SET throughput (redis-benchmark, pipelined) against a private
 * redis-server with 0..256 patterns. Run: `npx tsx bench/redis/keyspace-patterns.ts`; prints JSON
 * lines (committed beside it as keyspace-patterns.results.jsonl).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, spawnRedisServer } from '../../test/support/redis-server';
import { redisSnapshot } from '../harness/redis-stats';

async function main(): Promise<void> {
  const port = await freePort();
  const server = spawnRedisServer(port);
  await new Promise((r) => setTimeout(r, 500));
  try {
    // Series "others": patterns of other replicas only, none matching (the pure matching cost);
    // series "owner": one of them is the writer's own (a notification is delivered per SET too).
    // "owner" with 1, 3 and 6 patterns is a master of the bench's replygate-{1,3,6}http variants.
    const runs: [string, number][] = [
      ['others', 0],
      ['others', 8],
      ['others', 64],
      ['others', 256],
      ['owner', 1],
      ['owner', 3],
      ['owner', 6],
      ['owner', 64],
    ];
    const info = new Redis({ port });
    const cpuMs = async (): Promise<number> => (await redisSnapshot(info)).cpuMs;
    for (const [series, patterns] of runs) {
      const subs: Redis[] = [];
      let delivered = 0;
      for (let i = 0; i < patterns; i++) {
        const s = new Redis({ port });
        s.on('pmessage', () => delivered++);
        await s.psubscribe(`__keyspace@0__:rg:reply:rg-${series === 'owner' ? i : i + 1}.*`);
        subs.push(s);
      }
      const rates: number[] = [];
      const usPerSet: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        const c0 = await cpuMs();
        // Async: the subscribers must keep reading while the benchmark runs, as a replica does.
        const { stdout: out } = await promisify(execFile)(
          'redis-benchmark',
          ['-p', String(port), '-n', '200000', '-P', '16', '-c', '8', '-r', '1000000', '-q'].concat([
            'SET',
            'rg:reply:rg-0.__rand_int__',
            'v',
          ]),
        );
        rates.push(Number(/([\d.]+) requests per second/.exec(out)?.[1] ?? 0));
        // The server's own CPU per SET (matching and delivery included): what a master pays per reply.
        usPerSet.push(((await cpuMs()) - c0) / 200); // ms over 200,000 SETs -> µs per SET
      }
      rates.sort((a, b) => a - b);
      usPerSet.sort((a, b) => a - b);
      await new Promise((r) => setTimeout(r, 200));
      console.log(
        JSON.stringify({
          series,
          patterns,
          setPerSecMedianOf3: rates[1],
          redisCpuUsPerSetMedianOf3: Number(usPerSet[1]?.toFixed(2)),
          notificationsDelivered: delivered,
        }),
      );
      subs.forEach((s) => s.disconnect());
      execFileSync('redis-cli', ['-p', String(port), 'FLUSHALL']);
    }
    info.disconnect();
  } finally {
    server.kill('SIGKILL');
  }
}
void main();
