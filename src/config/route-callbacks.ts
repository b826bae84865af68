import { z } from 'zod';
import { CallbackSecret } from './callback-secret';
import { checkCallbackUrl, normalizeAllowPrefix } from './callback-url';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * A route's webhook settings (`callbacks:` in the routes file). A `Prefer: respond-async` request
 * with a `Callback-Url` header (or on a route with a `url`) gets its reply POSTed there, signed.
 */
export const callbacksSchema = z
  .object({
    /**
     * URL prefixes a client's `Callback-Url` may start with (http or https, no credentials).
     * Every other URL is refused with 400. @defaultValue `[url]` when `url` is set
     */
    allow: z.array(z.string().min(1).max(2048)).min(1).optional(),
    /** Callback used when the request sends no `Callback-Url`. Must match `allow` when both are set. */
    url: z.string().min(1).max(2048).optional(),
    /** HMAC-SHA256 signing secret (at least 16 characters). Prefer `secretEnv`. */
    secret: z.string().min(16, 'use at least 16 characters').optional(),
    /** Name of the environment variable holding the signing secret (read at start-up and reload). */
    secretEnv: z.string().regex(ENV_NAME, 'not an environment variable name').optional(),
    /** Delivery attempts before the job is dead-lettered (BullMQ failed set). @defaultValue 5 */
    attempts: z.number().int().min(1).max(50).default(5),
    /** First retry delay; doubles each attempt, with up to 50 % jitter taken off. @defaultValue 1000 */
    backoffMs: z.number().int().min(10).max(3_600_000).default(1000),
  })
  .strict()
  .transform((c, ctx) => {
    const allowText = c.allow ?? (c.url === undefined ? [] : [c.url]);
    if (allowText.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'give allow (URL prefixes) or url', path: ['allow'] });
      return z.NEVER;
    }
    const allow: string[] = [];
    for (const [i, entry] of allowText.entries()) {
      const normalized = normalizeAllowPrefix(entry);
      if (normalized === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: 'use an absolute http(s) URL without credentials',
          path: ['allow', i],
        });
        return z.NEVER;
      }
      allow.push(normalized);
    }
    let url: string | undefined;
    if (c.url !== undefined) {
      const check = checkCallbackUrl(c.url, allow);
      if (!check.ok) {
        ctx.addIssue({ code: 'custom', message: `refused (${check.problem}); it must match allow`, path: ['url'] });
        return z.NEVER;
      }
      url = check.url;
    }
    if ((c.secret === undefined) === (c.secretEnv === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of secret or secretEnv', path: ['secret'] });
      return z.NEVER;
    }
    // The routes file names the variable; its value is read here, with the rest of the configuration.
    const secretText = c.secret ?? process.env[c.secretEnv ?? ''];
    if (secretText === undefined || secretText.length < 16) {
      ctx.addIssue({
        code: 'custom',
        message: `environment variable ${c.secretEnv} must hold at least 16 characters`,
        path: ['secretEnv'],
      });
      return z.NEVER;
    }
    return { allow, url, secret: new CallbackSecret(secretText), attempts: c.attempts, backoffMs: c.backoffMs };
  });

/** A route's resolved webhook settings. */
export type CallbackSettings = z.output<typeof callbacksSchema>;

/** The webhook fields of a route in the routes file (spread into the route schema). */
export const routeCallbackFields = {
  /** Signed webhook delivery of async replies; without it `Callback-Url` is refused. */
  callbacks: callbacksSchema.optional(),
};
