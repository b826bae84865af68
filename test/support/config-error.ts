import { expect } from 'chai';
import { ConfigError } from '../../src/errors/startup-errors';

/** The ConfigError `fn` throws; fails the test if it throws anything else or nothing. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
