import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

const FILE = new URL('../RESULTS.md', import.meta.url);

/** Replaces the `## <title>` section of bench/RESULTS.md (or appends it), leaving the other benchmarks' sections. */
export async function writeSection(title, body) {
  const section = `## ${title}\n\n${body.trim()}\n`;
  const current = await readFile(FILE, 'utf8').catch(() => '# Benchmark results\n');
  const start = current.indexOf(`## ${title}\n`);
  const end = start < 0 ? -1 : current.indexOf('\n## ', start + 1);
  const updated =
    start < 0
      ? `${current.trimEnd()}\n\n${section}`
      : `${current.slice(0, start)}${section}${end < 0 ? '' : current.slice(end)}`;
  await writeFile(FILE, updated);
}

/** One line naming the machine, for the results: a ratio means little without it. */
export function machine() {
  const cores = cpus();
  return `${cores.length} × ${cores[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** The package.json of package `name` as Node finds it from the file `from`: the nearest node_modules/<name>. */
function packageFile(name, from) {
  for (let dir = dirname(realpathSync(from)); ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file)) return realpathSync(file);
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (looked from ${from})`);
  }
}

const versionOf = (file) => JSON.parse(readFileSync(file, 'utf8')).version;

/**
 * The versions of the packages a bench app found from `main` (its compiled entry point), read from their
 * package.json files: Express and Fastify as the Nest adapters find them.
 */
export function packageVersions(main) {
  const of = (name, from = main) => packageFile(name, from);
  return {
    nest: versionOf(of('@nestjs/core')),
    express: versionOf(of('express', of('@nestjs/platform-express'))),
    fastify: versionOf(of('fastify', of('@nestjs/platform-fastify'))),
    typeorm: versionOf(of('typeorm')),
    jsonwebtoken: versionOf(of('jsonwebtoken')),
    passportJwt: versionOf(of('passport-jwt')),
  };
}
