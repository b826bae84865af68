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

async function main(): Promise<void> {
  const port = await freePort();
  const server = spawnRedisServer(port);
  await new Promise((r) => setTimeout(r, 500));
  try {
    // Series "others": patterns of other replicas only, none matching (the pure matching cost);
    // series "owner": one of them is the writer's own (a notification is delivered per SET too).
    const runs: [string, number][] = [
      ['others', 0],
      ['others', 8],
      ['others', 64],
      ['others', 256],
      ['owner', 1],
      ['owner', 64],
    ];
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
      for (let rep = 0; rep < 3; rep++) {
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
      }
      rates.sort((a, b) => a - b);
      await new Promise((r) => setTimeout(r, 200));
      console.log(
        JSON.stringify({ series, patterns, setPerSecMedianOf3: rates[1], notificationsDelivered: delivered }),
      );
      subs.forEach((s) => s.disconnect());
      execFileSync('redis-cli', ['-p', String(port), 'FLUSHALL']);
    }
  } finally {
    server.kill('SIGKILL');
  }
}
void main();
