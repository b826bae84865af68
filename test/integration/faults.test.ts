import { expect } from 'chai';
import { runFaults } from '../../bench/faults/run-faults';
import { closeLoadAgent } from '../../bench/faults/load-generator';
import { SCENARIOS } from '../../bench/faults/scenarios';
import { useTestStack } from '../support/test-stack';

/**
 * The quick mode of the fault scenarios that finish fast (bench/faults, `npm run faults -- --quick`):
 * a relay SIGKILLed, a rolling restart of every replica and relay, an http replica SIGKILLed, Redis
 * restarted (or its clients killed), a service that never answers or answers late. Each scenario
 * first asserts that its fault happened, then its invariants: no wrong reply ever, nothing left
 * unanswered while its origin is up, no reply lost, recovery. The Kafka restart, the flapping broker
 * and the Redis connection kill run in the full harness (`npm run faults`).
 */
describe('integration: fault scenarios under load (quick)', function () {
  this.timeout(300_000);

  after(() => closeLoadAgent());

  for (const scenario of SCENARIOS.filter((s) => s.inTestSuite)) {
    it(`#${scenario.id} ${scenario.title}`, async function () {
      const stack = await useTestStack();
      const lines: string[] = [];
      const [result] = await runFaults(stack, { quick: true, only: [scenario.id], log: (l) => lines.push(l) });
      expect(result, 'scenario result').to.not.equal(undefined);
      const failed = result!.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
      expect(failed, `invariants of scenario ${scenario.id}\n${lines.join('\n')}`).to.deep.equal([]);
      expect(result!.sent, 'requests sent').to.be.greaterThan(0);
      expect(result!.wrong, 'wrong replies').to.equal(0);
      expect(result!.neverAnswered.originUp, 'never answered while the origin was up').to.equal(0);
    });
  }
});
