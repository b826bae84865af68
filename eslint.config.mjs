// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      '.stack/',
      'bench/results/',
      'bench/.build/',
      'bench/faults/results/',
      'coverage/',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Every path that answers a reply goes through StoredReplyDecoder (configured header caps,
    // dropped headers counted); a direct decodeReply would silently use the default caps.
    files: ['src/**/*.ts'],
    ignores: ['src/protocol/**', 'src/gateway/stored-reply-decoder.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/protocol/reply-envelope', '**/protocol'],
              importNames: ['decodeReply'],
              message: 'Decode replies with the StoredReplyDecoder (src/gateway/stored-reply-decoder.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
