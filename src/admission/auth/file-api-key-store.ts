import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../errors/startup-errors';
import type { ApiKeyRecord, ApiKeyStore } from './api-key-store';

const apiKeysFileSchema = z
  .object({
    keys: z.array(
      z
        .object({
          /** Stable, non-secret id. */
          id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
          /** SHA-256 hex of the key (an optional `sha256:` prefix is accepted). */
          hash: z
            .string()
            .transform((h) => h.replace(/^sha256:/, '').toLowerCase())
            .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'use the 64-hex SHA-256 of the key')),
          /** Owner of the key. */
          subject: z.string().min(1).max(256),
          /** Granted scopes. @defaultValue [] */
          scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/)).default([]),
          /** Route names the key is limited to. @defaultValue every route with `auth: apiKey` */
          routes: z.array(z.string().min(1)).min(1).optional(),
        })
        .strict(),
    ),
  })
  .strict();

/**
 * API keys held in memory from a YAML file (REPLYGATE_API_KEYS_FILE), read once at start-up:
 *
 * ```yaml
 * keys:
 *   - id: ci-bot
 *     hash: 9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7   # sha256 of the key
 *     subject: ci
 *     scopes: [orders:read]
 *     routes: [get-order]          # optional: only these routes
 * ```
 *
 * @example
 * const store = FileApiKeyStore.load('/etc/replygate/api-keys.yaml');
 */
export class FileApiKeyStore implements ApiKeyStore {
  private readonly byHash = new Map<string, ApiKeyRecord>();

  constructor(records: readonly ApiKeyRecord[]) {
    for (const r of records) this.byHash.set(r.hash, r);
  }

  /** Parse keys from YAML text; throws {@link ConfigError} naming the entry and field. */
  static parse(yamlText: string, source = 'API keys file'): FileApiKeyStore {
    let doc: unknown;
    try {
      doc = parseYaml(yamlText);
    } catch (cause) {
      throw new ConfigError(`${source}: not valid YAML: ${(cause as Error).message}`, [], { cause });
    }
    const result = apiKeysFileSchema.safeParse(doc);
    if (!result.success) {
      const issues = result.error.issues.map((i) => `${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new ConfigError(`Invalid API keys:\n  ${issues.join('\n  ')}`, issues);
    }
    const ids = new Set<string>();
    const hashes = new Set<string>();
    for (const [index, k] of result.data.keys.entries()) {
      const dup = ids.has(k.id) ? `duplicate id ${k.id}` : hashes.has(k.hash) ? 'duplicate hash' : undefined;
      if (dup !== undefined) {
        const msg = `${source}: keys.${index}: ${dup}`;
        throw new ConfigError(`Invalid API keys:\n  ${msg}`, [msg]);
      }
      ids.add(k.id);
      hashes.add(k.hash);
    }
    return new FileApiKeyStore(result.data.keys);
  }

  /** Read and parse the file named by REPLYGATE_API_KEYS_FILE. */
  static load(path: string): FileApiKeyStore {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new ConfigError(
        `REPLYGATE_API_KEYS_FILE (--api-keys-file): cannot read ${path}: ${(cause as Error).message}`,
        [],
        { cause },
      );
    }
    return FileApiKeyStore.parse(text, path);
  }

  /** Number of keys loaded. */
  get size(): number {
    return this.byHash.size;
  }

  find(hash: string): Promise<ApiKeyRecord | undefined> {
    return Promise.resolve(this.byHash.get(hash));
  }
}
