import { parseArgs } from 'node:util';
import { CONFIG_SOURCES, type ConfigSource } from '../config/config-sources';
import { type GatewayConfigInput } from '../config/gateway-config';

/** Flags that take no value (`--redis-configure`). */
const BOOLEAN_FLAGS = new Set<keyof GatewayConfigInput>(['redisConfigure']);

/**
 * Parse `replygate serve` flags into config keys. Every setting has a flag named in
 * {@link CONFIG_SOURCES}; flags win over environment variables.
 */
export function parseServeFlags(argv: string[]): Partial<Record<keyof GatewayConfigInput, string | boolean>> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  const byFlag = new Map<string, keyof GatewayConfigInput>();
  for (const [key, source] of Object.entries(CONFIG_SOURCES) as [keyof GatewayConfigInput, ConfigSource][]) {
    // Secrets have no flag: a flag shows in `ps`.
    if (source.flag === undefined) continue;
    options[source.flag] = { type: BOOLEAN_FLAGS.has(key) ? 'boolean' : 'string' };
    byFlag.set(source.flag, key);
  }
  const { values } = parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  const out: Partial<Record<keyof GatewayConfigInput, string | boolean>> = {};
  for (const [flag, value] of Object.entries(values)) {
    const key = byFlag.get(flag);
    if (key !== undefined && value !== undefined) out[key] = value as string | boolean;
  }
  return out;
}
