// @ts-check
import js from '@eslint/js';
import angular from 'angular-eslint';
import tseslint from 'typescript-eslint';

const CODE = ['**/*.ts', '**/*.js', '**/*.mjs'];
/** Node code checked with the type checker: the server, the contract, the tooling. */
const STRICT_TYPED = ['server/src/**/*.ts', 'packages/contract/src/**/*.ts', 'scripts/**/*.ts'];
/** Test and load code: type-aware too, for the two rules that catch real bugs there. */
const TYPED = ['server/test/**/*.ts', 'bench/**/*.ts', 'e2e/**/*.ts'];
const ANGULAR = ['web/src/**/*.ts', 'packages/angular/src/**/*.ts'];

/** Rule 1 of docs/style: a library is imported in one folder only; dependencies point inward. */
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

const SQL = ['kysely', 'kysely/*', 'pg', 'node:sqlite'];
const HTTP = ['fastify', '@fastify/*', 'fastify-plugin', 'helmet'];
/** Libraries with one home each in services/ (style rule 1: a library in one folder only). */
const SINGLE_HOME_LIBS = [
  { group: ['jose'], file: 'server/src/services/access-tokens.ts', what: 'jose' },
  { group: ['@node-rs/*'], file: 'server/src/services/password-hasher.ts', what: 'argon2' },
  { group: ['prom-client'], file: 'server/src/services/metrics.ts', what: 'prom-client' },
  { group: ['nodemailer'], file: 'server/src/services/mail-transport.ts', what: 'nodemailer' },
  {
    group: ['otpauth', 'qrcode'],
    file: 'server/src/services/second-factors.ts',
    what: 'otpauth and qrcode',
  },
];
const SERVICE_LIBS = SINGLE_HOME_LIBS.flatMap((lib) => lib.group);

/** The two rules every typed file gets: no forgotten promise, typed exports. */
const typedBasics = {
  '@typescript-eslint/no-floating-promises': [
    'error',
    {
      // node:test runs describe/test blocks itself; their promises are not the caller's to await.
      allowForKnownSafeCalls: [
        { from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] },
      ],
    },
  ],
  '@typescript-eslint/explicit-module-boundary-types': 'error',
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.angular/**',
      'data/**',
      '**/coverage/**',
      '.ci-out/**',
    ],
  },
  {
    // Code (not Angular's inline templates, which the template parser reads).
    files: CODE,
    extends: [js.configs.recommended, ...tseslint.configs.strict],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: STRICT_TYPED,
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      ...typedBasics,
      // Fastify's plugins, hooks and handlers are async by contract, awaiting or not.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
  {
    files: TYPED,
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: typedBasics,
  },
  {
    files: ANGULAR,
    languageOptions: {
      parserOptions: {
        project: ['web/tsconfig.app.json', 'web/tsconfig.spec.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: typedBasics,
  },
  ...serverLayerRules(),
  {
    files: ANGULAR,
    extends: [...angular.configs.tsRecommended],
    processor: angular.processInlineTemplates,
    rules: {
      '@angular-eslint/component-selector': [
        'error',
        { type: 'element', prefix: 'app', style: 'kebab-case' },
      ],
      // Angular's own idioms: output<void>(), empty lifecycle classes.
      '@typescript-eslint/no-invalid-void-type': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    // Inline templates: Angular's template rules and its accessibility rules.
    files: ['**/*.html'],
    extends: [...angular.configs.templateRecommended, ...angular.configs.templateAccessibility],
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
    files: ['packages/angular/**/*.ts'],
    rules: restrict([
      {
        group: ['**/server/**', '**/web/**'],
        message: 'Packages depend on nothing but each other.',
      },
    ]),
  },
  {
    files: ['packages/contract/**/*.ts'],
    rules: restrict([
      {
        group: ['**/server/**', '**/web/**', '@latchkey/*', '@angular/*', ...HTTP],
        message: 'The contract is the innermost package: it imports nothing of ours.',
      },
      {
        group: ['json-schema-to-ts'],
        allowTypeImports: true,
        message: 'json-schema-to-ts is for types only: nothing of it may reach a bundle.',
      },
    ]),
  },
);

/**
 * The layer rules docs/architecture.md states, one block per folder of server/src:
 * http → services → store, each library in one folder. (ESLint applies the last matching block's
 * `no-restricted-imports`, so each file matches exactly one of these.)
 */
function serverLayerRules() {
  const services = [
    { group: [...HTTP, ...SQL], message: 'services/ hold the rules: no HTTP, no SQL.' },
    { group: ['../http/*'], message: 'Dependencies point inward: services must not import http/.' },
  ];
  const homes = SINGLE_HOME_LIBS.map((lib) => ({
    file: lib.file,
    pattern: {
      group: lib.group,
      message: `Only ${lib.file.replace('server/src/', '')} imports ${lib.what}.`,
    },
  }));
  return [
    {
      files: ['server/src/services/**/*.ts'],
      ignores: homes.map((home) => home.file),
      rules: restrict([...services, ...homes.map((home) => home.pattern)]),
    },
    ...homes.map((home) => ({
      files: [home.file],
      rules: restrict([
        ...services,
        ...homes.filter((other) => other !== home).map((other) => other.pattern),
      ]),
    })),
    {
      files: ['server/src/store/**/*.ts'],
      rules: {
        // Rows are converted at the boundary (Number(row.created_at)): drivers return what their
        // runtime gives (pg's int8 as text unless parsed), whatever the row types claim.
        '@typescript-eslint/no-unnecessary-type-conversion': 'off',
        ...restrict([
          { group: [...HTTP, ...SERVICE_LIBS], message: 'store/ is SQL only.' },
          {
            group: ['../http/*', '../services/*'],
            message: 'store/ imports neither http/ nor services/.',
          },
        ]),
      },
    },
    {
      files: ['server/src/http/**/*.ts'],
      rules: restrict([
        {
          group: [...SQL, ...SERVICE_LIBS],
          message: 'http/ talks to services, not to SQL, crypto or metrics libraries.',
        },
        {
          group: ['../store/*'],
          message: 'http/ reaches the database only through services (http → services → store).',
        },
      ]),
    },
    {
      files: ['server/src/errors.ts'],
      rules: restrict([
        {
          group: ['./*', '!./errors.ts'],
          message: 'errors.ts is a leaf: it imports nothing of ours.',
        },
        { group: [...HTTP, ...SQL, ...SERVICE_LIBS], message: 'errors.ts is a leaf.' },
      ]),
    },
    {
      // app.ts wires plugins and routes: Fastify and its plugins, http/ and services/; no SQL,
      // no crypto, and the store only as a type it passes on.
      files: ['server/src/app.ts'],
      rules: restrict([
        {
          group: [...SQL, ...SERVICE_LIBS, 'helmet'],
          message: 'app.ts only wires plugins and routes.',
        },
        {
          group: ['./store/*'],
          allowTypeImports: true,
          message: 'app.ts passes the store on; it never queries it.',
        },
      ]),
    },
    {
      // The process edges (main.ts, cli.ts) and config: they open the store through its opener
      // and build the app; they never touch SQL, HTTP plugins or crypto libraries themselves.
      files: ['server/src/*.ts'],
      ignores: ['server/src/app.ts', 'server/src/errors.ts'],
      rules: restrict([
        {
          group: [...SQL, ...HTTP, ...SERVICE_LIBS],
          message: 'Process edges compose; store/, http/ and services/ use these libraries.',
        },
        {
          group: ['./http/*'],
          message: 'Only app.ts wires http/.',
        },
      ]),
    },
  ];
}
