import { readFileSync } from 'node:fs';

/**
 * Makes the error for a file a setting names (the ConfigError of the settings it belongs to,
 * naming the setting and the path): `problem` says what is wrong with the file.
 */
export type SettingFileError = (problem: string, cause?: unknown) => Error;

/** Read the file a setting names; a missing or unreadable one fails through `fail`. */
export function readNamedFile(path: string, fail: SettingFileError): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw fail(`cannot read (${why})`, err);
  }
}

/**
 * A secret from the file a setting names (a `…_FILE` setting), without the one trailing newline
 * editors and `echo` add; an unreadable or empty file fails through `fail`.
 */
export function readSecretFile(path: string, fail: SettingFileError): string {
  const value = readNamedFile(path, fail)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (value === '') throw fail('the file is empty');
  return value;
}

/**
 * A secret given twice, as a file (`fileKey`, e.g. `REDIS_PASSWORD_FILE`) and as the value itself
 * (`valueKey`, `REDIS_PASSWORD`): the issue on `valueKey` ("give the `what` once: … or …"), else
 * undefined. `sources` names their environment variables.
 */
export function secretGivenTwice<K extends string>(
  s: Partial<Record<K, unknown>>,
  fileKey: K,
  valueKey: K,
  sources: Record<K, { env: string }>,
  what: string,
): { key: K; message: string } | undefined {
  if (s[fileKey] === undefined || s[valueKey] === undefined) return undefined;
  return { key: valueKey, message: `give the ${what} once: ${sources[fileKey].env} or ${sources[valueKey].env}` };
}
