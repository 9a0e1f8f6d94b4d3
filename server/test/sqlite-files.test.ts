import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openSqliteStore } from '../src/store/open-sqlite-store.ts';

/** The permission bits of a file, as `ls -l` would show them in octal. */
const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('the SQLite data files stay private', () => {
  test('a new DATA_DIR is 0700 and the database, WAL and shared-memory files are 0600', async (ctx) => {
    const parent = mkdtempSync(join(tmpdir(), 'latchkey-files-'));
    ctx.after(() => rmSync(parent, { recursive: true, force: true }));
    const dataDir = join(parent, 'data');
    const store = await openSqliteStore({ dataDir, busyTimeoutMs: 1000 });
    try {
      // A write, so the WAL and its index exist.
      await store.hitCounter('files-test', 60_000, Date.now());
      assert.equal(modeOf(dataDir), '700');
      for (const file of ['latchkey.sqlite', 'latchkey.sqlite-wal', 'latchkey.sqlite-shm']) {
        assert.equal(modeOf(join(dataDir, file)), '600', file);
      }
    } finally {
      await store.close();
    }
  });

  test('a database file an older version left world-readable is narrowed to 0600', async (ctx) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-files-'));
    ctx.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const path = join(dataDir, 'latchkey.sqlite');
    writeFileSync(path, '', { mode: 0o644 });
    assert.equal(modeOf(path), '644');
    const store = await openSqliteStore({ dataDir, busyTimeoutMs: 1000 });
    await store.close();
    assert.equal(modeOf(path), '600');
  });
});
