import { expect } from 'chai';
import { admit, type AdmissionGate } from '../../../src/admission/admit';
import type { AdmissionContext } from '../../../src/admission/admission-context';
import { UnavailableError } from '../../../src/errors/reply-errors';

const ctx = { identity: undefined } as unknown as AdmissionContext;

function gate(over: Partial<AdmissionGate>): AdmissionGate {
  return { stages: [], blocker: () => undefined, pending: () => 0, maxPending: 10, ...over };
}

async function refusal(g: AdmissionGate): Promise<unknown> {
  try {
    await admit(ctx, g);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('admit: a passing blocker is waited out once, a lasting one refuses', () => {
  it('admits a request whose blocker clears while recover waits (a Redis reconnect)', async () => {
    let down = true;
    const reasons: string[] = [];
    const err = await refusal(
      gate({
        blocker: () => (down ? 'Redis is unreachable' : undefined),
        recover: async (reason) => {
          reasons.push(reason);
          down = false;
        },
      }),
    );
    expect(err).to.equal(undefined);
    expect(reasons).to.deep.equal(['Redis is unreachable']);
  });

  it('refuses with 503 naming the reason when the blocker is still there after recover', async () => {
    const err = await refusal(gate({ blocker: () => 'Redis is unreachable', recover: async () => undefined }));
    expect(err).to.be.instanceOf(UnavailableError);
    expect((err as UnavailableError).status).to.equal(503);
    expect((err as Error).message).to.include('Redis is unreachable');
  });

  it('does not call recover when nothing blocks, and refuses at once without one', async () => {
    let called = 0;
    expect(await refusal(gate({ recover: async () => void (called += 1) }))).to.equal(undefined);
    expect(called).to.equal(0);
    expect(await refusal(gate({ blocker: () => 'this replica is starting' }))).to.be.instanceOf(UnavailableError);
  });
});
