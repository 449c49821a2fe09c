// The lint rules of `npm test` (`npm run lint`): typescript-eslint's recommended set, plus the house
// limits on lib (a file ≤ 450 lines, a function ≤ 80 lines of code) and the casts: `as unknown as`
// only in lib/native/, the adapters to dependencies' internals.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['lib/dist/**', 'node_modules/**', 'reports/**', '.cache/**', '.scratch/**', 'lib/native/assembly/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', Buffer: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly',
        URL: 'readonly', __dirname: 'readonly', __filename: 'readonly', require: 'readonly', module: 'readonly',
        globalThis: 'readonly', structuredClone: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly',
        SharedArrayBuffer: 'readonly', Atomics: 'readonly', WebAssembly: 'readonly', FinalizationRegistry: 'readonly',
        AbortController: 'readonly', AbortSignal: 'readonly', queueMicrotask: 'readonly', fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 450 }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "TSAsExpression > TSAsExpression[typeAnnotation.type='TSUnknownKeyword']",
          message: '`as unknown as` only in lib/native/ (the adapters to dependencies\' internals); type the value instead',
        },
      ],
    },
  },
  {
    files: ['lib/native/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['scripts/**/*.mjs', '*.cjs', '*.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
