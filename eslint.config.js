// @ts-check
import js from '@eslint/js';
import angular from 'angular-eslint';
import tseslint from 'typescript-eslint';

const CODE = ['**/*.ts', '**/*.js', '**/*.mjs'];

/** Rule 1 of docs/style: a library is imported in one folder only; dependencies point inward. */
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.angular/**', 'data/**', '**/coverage/**'] },
  {
    // Code (not Angular's inline templates, which the template parser reads).
    files: CODE,
    extends: [js.configs.recommended, ...tseslint.configs.strict],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  ...serviceRules(),
  {
    files: ['server/src/store/**/*.ts'],
    rules: restrict([
      { group: ['fastify', '@fastify/*', 'jose', '@node-rs/*'], message: 'store/ is SQL only.' },
      {
        group: ['../http/*', '../services/*'],
        message: 'store/ imports neither http/ nor services/.',
      },
    ]),
  },
  {
    files: ['server/src/http/**/*.ts'],
    rules: restrict([
      {
        group: ['kysely', 'kysely/*', 'pg', 'node:sqlite', 'jose', '@node-rs/*'],
        message: 'http/ talks to services, not to SQL or crypto libraries.',
      },
    ]),
  },
  {
    files: ['web/src/**/*.ts', 'packages/angular/src/**/*.ts'],
    extends: [...angular.configs.tsRecommended],
    processor: angular.processInlineTemplates,
    rules: {
      '@angular-eslint/component-selector': [
        'error',
        { type: 'element', prefix: 'app', style: 'kebab-case' },
      ],
    },
  },
  {
    // Inline templates: Angular's template rules and its accessibility rules.
    files: ['**/*.html'],
    extends: [...angular.configs.templateRecommended, ...angular.configs.templateAccessibility],
  },
  {
    // Angular's own idioms: output<void>(), empty lifecycle classes.
    files: ['web/src/**/*.ts', 'packages/angular/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-invalid-void-type': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    files: ['web/src/**/*.ts'],
    rules: restrict([
      {
        group: ['@latchkey/angular/*', '**/packages/angular/**'],
        message: 'The app uses only the public entry of @latchkey/angular.',
      },
      { group: ['**/server/**'], message: 'The web app talks to the server over HTTP only.' },
    ]),
  },
  {
    files: ['packages/**/*.ts'],
    rules: restrict([
      {
        group: ['**/server/**', '**/web/**'],
        message: 'Packages depend on nothing but each other.',
      },
    ]),
  },
  {
    files: ['server/src/*.ts'],
    ignores: ['server/src/store/**'],
    rules: restrict([
      {
        group: ['kysely', 'kysely/*', 'pg', 'node:sqlite', 'jose', '@node-rs/*'],
        message: 'Only store/ and services/ use these.',
      },
    ]),
  },
);

/** services/: no HTTP, no SQL; jose only in access-tokens.ts, argon2 only in password-hasher.ts. */
function serviceRules() {
  const base = [
    {
      group: ['fastify', '@fastify/*', 'kysely', 'kysely/*', 'pg', 'node:sqlite'],
      message: 'services/ hold the rules: no HTTP, no SQL.',
    },
    { group: ['../http/*'], message: 'Dependencies point inward: services must not import http/.' },
  ];
  const jose = { group: ['jose'], message: 'Only services/access-tokens.ts imports jose.' };
  const argon2 = {
    group: ['@node-rs/*'],
    message: 'Only services/password-hasher.ts imports argon2.',
  };
  const tokens = 'server/src/services/access-tokens.ts';
  const hasher = 'server/src/services/password-hasher.ts';
  return [
    {
      files: ['server/src/services/**/*.ts'],
      ignores: [tokens, hasher],
      rules: restrict([...base, jose, argon2]),
    },
    { files: [tokens], rules: restrict([...base, argon2]) },
    { files: [hasher], rules: restrict([...base, jose]) },
  ];
}
