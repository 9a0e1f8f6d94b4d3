/**
 * `npm run package`: writes dist/latchkey-angular.tgz, @latchkey/angular in the Angular Package
 * Format (ng-packagr), installable on its own: `npm install ./latchkey-angular.tgz`.
 *
 * The library imports a few things from @latchkey/contract, which is not published. Those are
 * bundled in (docs/decisions/0009-angular-package.md): the library's sources are staged in
 * dist/.stage/angular with their `@latchkey/contract` imports pointed at a generated
 * `contract.ts` holding
 * - the value modules they need, copied verbatim (error-codes.ts: ERROR_STATUS, isErrorCode),
 *   which import nothing, so the copy stays true;
 * - every type they need, written out in full by the TypeScript checker (the contract derives
 *   its types from JSON Schemas with json-schema-to-ts; the package must not depend on that).
 * Spec files and test helpers (src/testing/) are left out of the stage, and the tarball is
 * checked for them afterwards.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const LIBRARY = join(root, 'packages/angular');
const CONTRACT_ENTRY = join(root, 'packages/contract/src/index.ts');
const DIST = join(root, 'dist');
const STAGE = join(DIST, '.stage/angular');
const BUILT = join(DIST, '.stage/angular-built');
export const TARBALL = join(DIST, 'latchkey-angular.tgz');

/** Library files that never ship: tests and their helpers. */
const isShipped = (path: string) => !path.endsWith('.spec.ts') && !path.includes('/testing/');

/** The library's non-test sources, relative to its src/. */
function librarySources(): string[] {
  const src = join(LIBRARY, 'src');
  return readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `src/${file}`)
    .filter(isShipped);
}

/** Every name the shipped sources import from @latchkey/contract. */
function contractImports(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    const source = ts.createSourceFile(
      file,
      readFileSync(join(LIBRARY, file), 'utf8'),
      ts.ScriptTarget.Latest,
    );
    for (const statement of source.statements) {
      let bindings: ts.NamedImportBindings | ts.NamedExportBindings | undefined;
      if (ts.isImportDeclaration(statement)) bindings = statement.importClause?.namedBindings;
      else if (ts.isExportDeclaration(statement)) bindings = statement.exportClause;
      else continue;
      const specifier = statement.moduleSpecifier;
      if (specifier === undefined || !ts.isStringLiteral(specifier)) continue;
      if (specifier.text !== '@latchkey/contract') continue;
      if (
        bindings === undefined ||
        ts.isNamespaceImport(bindings) ||
        ts.isNamespaceExport(bindings)
      )
        throw new Error(`${file}: import names from @latchkey/contract one by one`);
      for (const element of bindings.elements)
        names.add((element.propertyName ?? element.name).text);
    }
  }
  return names;
}

/**
 * The contract's part the library needs, as one self-contained module: value files copied
 * whole, types expanded by the checker so that nothing refers to json-schema-to-ts.
 */
function contractModule(names: Set<string>): string {
  const program = ts.createProgram([CONTRACT_ENTRY], {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2024,
    allowImportingTsExtensions: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const entry = program.getSourceFile(CONTRACT_ENTRY);
  const entrySymbol = entry === undefined ? undefined : checker.getSymbolAtLocation(entry);
  if (entrySymbol === undefined) throw new Error(`cannot read ${CONTRACT_ENTRY}`);
  const exports = new Map(checker.getExportsOfModule(entrySymbol).map((s) => [s.name, s]));

  const copiedFiles = new Set<string>();
  const types: string[] = [];
  for (const name of [...names].sort()) {
    const exported = exports.get(name);
    if (exported === undefined) throw new Error(`@latchkey/contract exports no ${name}`);
    const symbol =
      exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaration = symbol.declarations?.[0];
    if (declaration === undefined) throw new Error(`no declaration for ${name}`);
    const file = declaration.getSourceFile();
    const importsNothing = !file.statements.some(ts.isImportDeclaration);
    if (importsNothing) {
      copiedFiles.add(file.fileName);
    } else if (ts.isTypeAliasDeclaration(declaration)) {
      const type = checker.getTypeAtLocation(declaration.name);
      const text = checker.typeToString(
        type,
        undefined,
        ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias,
      );
      const doc = ts.displayPartsToString(symbol.getDocumentationComment(checker));
      types.push(
        `/** ${doc || `See ${name} in the Latchkey contract.`} */\nexport type ${name} = ${text};`,
      );
    } else {
      throw new Error(
        `${name} (${relative(root, file.fileName)}) is a value in a module with imports: ` +
          'move it to a module that imports nothing, or teach scripts/package-angular.ts',
      );
    }
  }
  // A copied file may define names the expanded types use (ErrorCode); they are in scope.
  const header =
    '/*\n * Generated by scripts/package-angular.ts from packages/contract (not edited by hand):\n' +
    ' * the part of the Latchkey wire contract this library uses.\n */\n';
  const copied = [...copiedFiles].sort().map((file) => readFileSync(file, 'utf8').trim());
  return `${header}${[...copied, ...types].join('\n\n')}\n`;
}

/** The package.json that ships: no workspace-only fields, the real dependencies. */
function shippedManifest(): string {
  const manifest = JSON.parse(readFileSync(join(LIBRARY, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const shipped: Record<string, unknown> = { ...manifest };
  // ng-packagr writes `exports` for the built files; the contract is inside; it is publishable.
  delete shipped['exports'];
  delete shipped['private'];
  shipped['dependencies'] = { tslib: '^2.3.0' };
  return `${JSON.stringify(shipped, null, 2)}\n`;
}

function stage(): void {
  rmSync(join(DIST, '.stage'), { recursive: true, force: true });
  const files = librarySources();
  for (const file of files) {
    const text = readFileSync(join(LIBRARY, file), 'utf8');
    const depth = file.split('/').length - 2;
    const contract = depth === 0 ? './contract' : `${'../'.repeat(depth)}contract`;
    mkdirSync(dirname(join(STAGE, file)), { recursive: true });
    writeFileSync(join(STAGE, file), text.replaceAll(`'@latchkey/contract'`, `'${contract}'`));
  }
  writeFileSync(join(STAGE, 'src/contract.ts'), contractModule(contractImports(files)));
  writeFileSync(join(STAGE, 'package.json'), shippedManifest());
  copyFileSync(join(LIBRARY, 'README.md'), join(STAGE, 'README.md'));
  if (existsSync(join(root, 'LICENSE')))
    copyFileSync(join(root, 'LICENSE'), join(STAGE, 'LICENSE'));
  writeFileSync(
    join(STAGE, 'ng-package.json'),
    JSON.stringify({ dest: relative(STAGE, BUILT), lib: { entryFile: 'src/public-api.ts' } }),
  );
  writeFileSync(
    join(STAGE, 'tsconfig.lib.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'preserve',
          moduleResolution: 'bundler',
          lib: ['ES2022', 'DOM'],
          strict: true,
          noUncheckedIndexedAccess: true,
          noImplicitOverride: true,
          noImplicitReturns: true,
          isolatedModules: true,
          experimentalDecorators: true,
          importHelpers: true,
          skipLibCheck: true,
          declaration: true,
          declarationMap: false,
          sourceMap: true,
          inlineSources: true,
          types: [],
        },
        angularCompilerOptions: {
          compilationMode: 'partial',
          strictInjectionParameters: true,
          strictTemplates: true,
        },
        include: ['src/**/*.ts'],
      },
      null,
      2,
    ),
  );
}

function build(): void {
  execFileSync(
    join(root, 'node_modules/.bin/ng-packagr'),
    ['-p', join(STAGE, 'ng-package.json'), '-c', join(STAGE, 'tsconfig.lib.json')],
    { cwd: STAGE, stdio: 'inherit', env: { ...process.env, NG_CLI_ANALYTICS: 'false' } },
  );
}

/** Packs the built folder into dist/latchkey-angular.tgz; returns the files it holds. */
function pack(): string[] {
  const output = execFileSync('npm', ['pack', BUILT, '--pack-destination', DIST, '--json'], {
    cwd: root,
    encoding: 'utf8',
  });
  const [result] = JSON.parse(output) as { filename: string; files: { path: string }[] }[];
  if (result === undefined) throw new Error('npm pack wrote nothing');
  rmSync(TARBALL, { force: true });
  renameSync(join(DIST, result.filename), TARBALL);
  return result.files.map((f) => f.path);
}

function main(): void {
  const startedAt = performance.now();
  mkdirSync(DIST, { recursive: true });
  stage();
  build();
  const files = pack();
  const stray = files.filter((f) => /\.spec\.|(^|\/)testing\//.test(f));
  if (stray.length > 0) throw new Error(`the package holds test files: ${stray.join(', ')}`);
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  process.stdout.write(
    `${relative(root, TARBALL)}: ${files.length} files (${files.join(', ')}) in ${seconds} s\n`,
  );
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) main();
