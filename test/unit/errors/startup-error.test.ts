import { expect } from 'chai';
import { CONFIG_SOURCES } from '../../../src/config/config-sources';
import { ReplygateError } from '../../../src/errors/replygate-error';
import { StartupError, describeNetworkError } from '../../../src/errors/startup-errors';
import { listenError } from '../../../src/replica/listen-error';

const errno = (code: string): Error => Object.assign(new Error(`x ${code}`), { code });

describe('StartupError', () => {
  it('leads with the setting (variable and flag) and the address', () => {
    const err = new StartupError([CONFIG_SOURCES.kafkaBrokers], '127.0.0.1:1', 'connection refused');
    expect(err).to.be.instanceOf(ReplygateError);
    expect(err.code).to.equal('RG_STARTUP_FAILED');
    expect(err.message).to.equal('KAFKA_BROKERS (--kafka-brokers) 127.0.0.1:1: connection refused');
  });

  it('says network errors in words, and keeps other messages', () => {
    expect(describeNetworkError(errno('ECONNREFUSED'))).to.equal('connection refused');
    expect(describeNetworkError(errno('ENOTFOUND'))).to.equal('host not found');
    expect(describeNetworkError(new Error('odd'))).to.equal('odd');
  });

  it('names PORT first for a port in use, HOST first for an address not on this host', () => {
    expect(listenError(errno('EADDRINUSE'), '0.0.0.0', 8080).message).to.equal(
      'PORT (--port) / HOST (--host) 0.0.0.0:8080: address already in use',
    );
    expect(listenError(errno('EADDRNOTAVAIL'), '10.9.9.9', 8080).message).to.match(/^HOST \(--host\) \/ PORT/);
  });
});
