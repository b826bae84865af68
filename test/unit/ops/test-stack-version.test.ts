import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { versionFromBrokerLog } from '../../support/test-stack';

/** The version a test run prints comes from what the stack's broker logged about itself. */
describe('test stack: broker version', () => {
  const stateDir = (file: string, text: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-stack-version-'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', file), text);
    return dir;
  };

  it('reads the version a single node logged', () => {
    const dir = stateDir(
      'kafka.log',
      '[2026-11-30 22:51:36,101] INFO Kafka version: 4.4.0 (org.apache.kafka.common.utils.AppInfoParser)\n',
    );
    expect(versionFromBrokerLog(dir)).to.equal('4.4.0');
  });

  it('reads node 1 of a three-broker stack', () => {
    const dir = stateDir(
      'kafka-1.log',
      '[x] INFO Kafka version: 3.9.1 (org.apache.kafka.common.utils.AppInfoParser)\n',
    );
    expect(versionFromBrokerLog(dir)).to.equal('3.9.1');
  });

  it('says nothing when no broker log is there', () => {
    expect(versionFromBrokerLog(mkdtempSync(join(tmpdir(), 'rg-stack-version-')))).to.equal(undefined);
  });
});
