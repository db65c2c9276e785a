import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const { version } = JSON.parse(read('package.json')) as { version: string };

describe(`the version, ${version}`, () => {
  it('is the one the README describes', () => {
    expect(read('README.md')).toContain(`(this README describes ${version})`);
  });

  it("is the CHANGELOG's newest section", () => {
    expect(/^## \[([^\]]+)\]/m.exec(read('CHANGELOG.md'))?.[1]).toBe(version);
  });

  it('is the lock file’s', () => {
    expect((JSON.parse(read('package-lock.json')) as { version: string }).version).toBe(version);
  });
});
