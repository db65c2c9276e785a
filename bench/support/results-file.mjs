import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

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
