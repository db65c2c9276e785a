import { describe, expect, it } from 'vitest';
import { WriteBatcher } from './write-batcher.js';

/** A writer that records each batch and fails any batch holding a row `fails` names. */
function recorder(fails: (row: string) => boolean = () => false) {
  const batches: string[][] = [];
  const write = async (rows: string[]) => {
    batches.push(rows);
    await Promise.resolve();
    if (rows.some(fails)) throw new Error(`duplicate ${rows.filter(fails).join(',')}`);
  };
  return { batches, write };
}

describe('WriteBatcher', () => {
  it('writes the rows added in one tick in one batch', async () => {
    const { batches, write } = recorder();
    const batcher = new WriteBatcher(write, 50);
    await Promise.all(['a', 'b', 'c'].map((row) => batcher.add(row)));
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('writes a lone row on the next turn of the event loop, and gathers what arrives during a write', async () => {
    const batches: string[][] = [];
    let release: (() => void) | undefined;
    const batcher = new WriteBatcher(async (rows: string[]) => {
      batches.push(rows);
      await new Promise<void>((resolve) => (release = resolve));
    }, 50);
    const first = batcher.add('a');
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([['a']]);
    const later = [batcher.add('b'), batcher.add('c')];
    release!();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    release!();
    await Promise.all(later);
    expect(batches).toEqual([['a'], ['b', 'c']]);
  });

  it('splits at maxRows', async () => {
    const { batches, write } = recorder();
    const batcher = new WriteBatcher(write, 2);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((row) => batcher.add(row)));
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('fails only the row at fault: a failed batch is written again row by row', async () => {
    const { batches, write } = recorder((row) => row === 'b');
    const batcher = new WriteBatcher(write, 50);
    const results = await Promise.allSettled(['a', 'b', 'c'].map((row) => batcher.add(row)));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('duplicate b'));
    expect(batches).toEqual([['a', 'b', 'c'], ['a'], ['b'], ['c']]);
  });

  it('keeps writing after a failure', async () => {
    const { batches, write } = recorder((row) => row === 'bad');
    const batcher = new WriteBatcher(write, 50);
    await expect(batcher.add('bad')).rejects.toThrow('duplicate bad');
    await batcher.add('good');
    expect(batches).toEqual([['bad'], ['good']]);
  });
});
