// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layers (docs/ARCHITECTURE.md, "Layers"): each folder of src/ may import only the folders listed;
// imports inside a folder are free. A lower layer importing a higher one fails `npm run lint`.
const LAYERS = {
  errors: [],
  protocol: ['errors'],
  config: ['errors', 'protocol'],
  observability: ['errors', 'protocol', 'config'],
  kafka: ['errors', 'protocol', 'config', 'observability'],
  routing: ['errors', 'protocol', 'config', 'observability'],
  exchange: ['errors', 'protocol', 'config', 'observability'],
  redis: ['errors', 'protocol', 'config', 'observability', 'exchange'],
  relay: ['errors', 'protocol', 'config', 'observability', 'kafka', 'exchange'],
  webhooks: ['errors', 'protocol', 'config', 'observability', 'exchange', 'redis'],
  admission: ['errors', 'protocol', 'config', 'observability', 'routing'],
  ingress: ['errors', 'protocol', 'config', 'observability', 'routing', 'exchange', 'admission', 'webhooks'],
  replica: [
    'errors',
    'protocol',
    'config',
    'observability',
    'kafka',
    'routing',
    'exchange',
    'redis',
    'relay',
    'webhooks',
    'admission',
    'ingress',
  ],
  cli: ['errors', 'config', 'observability', 'replica'],
  responder: ['errors', 'protocol', 'kafka'],
};
const ALL_LAYERS = Object.keys(LAYERS);
const SRC_BOUNDARY = [
  { regex: '^(\\.\\./)+(examples|test|bench)(/|$)', message: 'src/ never imports examples, tests or benches' },
  { regex: '^replygate(/|$)', message: 'inside src/ import files, not the package name' },
];
// Every path that answers a reply goes through StoredReplyDecoder (configured header caps,
// dropped headers counted); a direct decodeReply would silently use the default caps.
const DECODE_REPLY = {
  group: ['**/protocol/reply-envelope', '**/protocol'],
  importNames: ['decodeReply'],
  message: 'Decode replies with the StoredReplyDecoder (src/exchange/stored-reply-decoder.ts).',
};
const layerPattern = (layer, allowed) => ({
  regex: `^(\\.\\./)+(${ALL_LAYERS.filter((l) => l !== layer && !allowed.includes(l)).join('|')})(/|$)`,
  message: `${layer}/ may import only: ${allowed.join(', ') || 'nothing'} (docs/ARCHITECTURE.md, "Layers")`,
});
const layerRules = ALL_LAYERS.map((layer) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          layerPattern(layer, LAYERS[layer]),
          ...SRC_BOUNDARY,
          ...(layer === 'protocol' ? [] : [DECODE_REPLY]),
        ],
      },
    ],
  },
}));
layerRules.push({
  files: ['src/exchange/stored-reply-decoder.ts'],
  rules: {
    'no-restricted-imports': ['error', { patterns: [layerPattern('exchange', LAYERS.exchange), ...SRC_BOUNDARY] }],
  },
});
layerRules.push({
  files: ['src/responder/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          layerPattern('responder', LAYERS.responder),
          {
            regex: '^(\\.\\./)+kafka/(?!kafka-client$|supervised-consumer$|send-errors$)',
            message:
              'the responder kit uses only the Kafka client, the supervised consumer and the send-error explanations',
          },
          ...SRC_BOUNDARY,
          DECODE_REPLY,
        ],
      },
    ],
  },
});
layerRules.push({
  files: ['examples/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: '^(\\.\\./)+src(/|$)',
            message: "examples import 'replygate' and 'replygate/responder', as a service author would",
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      '.stack/',
      'bench/results/',
      'bench/.build/',
      'bench/faults/results/',
      // The NestJS peer builds with its own pinned TypeScript and dependencies (bench/peers/nest).
      'bench/peers/',
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
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  ...layerRules,
);
