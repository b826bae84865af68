import { expect } from 'chai';
import { parseRoutes } from '../../../src/config/routes-file';
import { ConfigError } from '../../../src/errors/startup-errors';
import { CallbackRefusedError } from '../../../src/errors/callback-errors';
import { CallbackRegistrar } from '../../../src/webhooks/callback-registrar';
import { type CallbackHookStore } from '../../../src/webhooks/callback-hook-store';

const DEFAULTS = { timeoutMs: 1000, maxBodyBytes: 1024, forwardHeaders: [] };

function routesWith(callbacks: string): string {
  return `routes:\n  - { name: r, method: POST, path: /r, topic: t, callbacks: ${callbacks} }\n`;
}

function issues(yaml: string): string[] {
  try {
    parseRoutes(yaml, DEFAULTS);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('route callbacks', () => {
  it('resolves defaults, normalises allow and keeps the secret out of JSON', () => {
    const [route] = parseRoutes(
      routesWith('{ allow: ["HTTP://127.0.0.1:9000"], secret: "0123456789abcdef" }'),
      DEFAULTS,
    );
    expect(route!.callbacks).to.deep.include({ allow: ['http://127.0.0.1:9000/'], attempts: 5, backoffMs: 1000 });
    expect(route!.callbacks!.secret.reveal().toString()).to.equal('0123456789abcdef');
    expect(JSON.stringify(route)).to.not.include('0123456789abcdef');
  });

  it('reads the secret from the environment variable it names', () => {
    process.env['RG_TEST_HOOK_SECRET'] = 'from-the-environment-0123';
    try {
      const [route] = parseRoutes(
        routesWith('{ url: "https://h.example/x", secretEnv: RG_TEST_HOOK_SECRET }'),
        DEFAULTS,
      );
      expect(route!.callbacks!.secret.reveal().toString()).to.equal('from-the-environment-0123');
      expect(route!.callbacks!.allow).to.deep.equal(['https://h.example/x']);
    } finally {
      delete process.env['RG_TEST_HOOK_SECRET'];
    }
  });

  it('refuses bad settings, naming the field', () => {
    expect(issues(routesWith('{ allow: ["ftp://x/"], secret: "0123456789abcdef" }'))[0]).to.include(
      'routes.0.callbacks.allow.0',
    );
    expect(issues(routesWith('{ allow: ["https://a/"] }'))[0]).to.include('callbacks.secret');
    expect(issues(routesWith('{ allow: ["https://a/"], secretEnv: RG_TEST_UNSET_VARIABLE }'))[0]).to.include(
      'RG_TEST_UNSET_VARIABLE',
    );
    expect(
      issues(routesWith('{ allow: ["https://a/x"], url: "https://b/", secret: "0123456789abcdef" }'))[0],
    ).to.include('callbacks.url');
    expect(issues(routesWith('{ secret: "0123456789abcdef" }'))[0]).to.include('callbacks.allow');
  });

  describe('CallbackRegistrar.resolve', () => {
    const registrar = new CallbackRegistrar({} as CallbackHookStore);
    const [route] = parseRoutes(
      routesWith('{ allow: ["http://127.0.0.1:9000/hooks"], secret: "0123456789abcdef" }'),
      DEFAULTS,
    );
    const plain = { name: 'plain', replyContentType: 'application/json' };
    const reason = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        expect(err).to.be.instanceOf(CallbackRefusedError);
        expect((err as CallbackRefusedError).status).to.equal(400);
        return (err as CallbackRefusedError).reason;
      }
      throw new Error('expected a CallbackRefusedError');
    };

    it('builds a hook for an allowed URL on an async request', () => {
      expect(registrar.resolve(route!, 'http://127.0.0.1:9000/hooks/a', true)).to.deep.equal({
        url: 'http://127.0.0.1:9000/hooks/a',
        route: 'r',
        replyContentType: 'application/json',
        attempts: 5,
        backoffMs: 1000,
      });
      expect(registrar.resolve(route!, undefined, true)).to.equal(undefined);
      expect(registrar.resolve(plain, undefined, true)).to.equal(undefined);
    });

    it('refuses a URL outside the allow-list, on a route without callbacks, or without respond-async', () => {
      expect(reason(() => registrar.resolve(route!, 'http://127.0.0.1:9000/hooksx', true))).to.equal('not-allowed');
      expect(reason(() => registrar.resolve(route!, 'http://10.0.0.1/', true))).to.equal('not-allowed');
      expect(reason(() => registrar.resolve(plain, 'http://127.0.0.1:9000/hooks', true))).to.equal('no-callbacks');
      expect(reason(() => registrar.resolve(route!, 'http://127.0.0.1:9000/hooks', false))).to.equal('not-async');
    });
  });
});
