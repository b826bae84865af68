import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { CONFIG_SOURCES } from '../../../src/config/config-sources';

describe('README configuration reference', () => {
  const readme = readFileSync(resolve(__dirname, '../../../README.md'), 'utf8');

  it('documents every setting the schema declares, by env name and flag (secrets: env only)', () => {
    const row = (s: { env: string; flag?: string }) =>
      s.flag === undefined ? `| \`${s.env}\` | — (env only) |` : `| \`${s.env}\` | \`--${s.flag}\``;
    const missing = Object.values(CONFIG_SOURCES).filter((s) => !readme.includes(row(s)));
    expect(missing.map((s) => s.env)).to.deep.equal([]);
  });
});
