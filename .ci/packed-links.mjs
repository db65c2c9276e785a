// Checks the relative links and images of the packed README.md and docs/*.md: each must name a file in the package
// (a link to repository-only material is dead for whoever installed it), and an #anchor into a Markdown file must name
// one of its headings. Prints each dead link with its file and line, and fails if there is any.
// Usage: node .ci/packed-links.mjs <the unpacked package's directory>
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const [packageDir] = process.argv.slice(2);
if (!packageDir) throw new Error('usage: node .ci/packed-links.mjs <package directory>');
const root = resolve(packageDir);

const docsDir = join(root, 'docs');
const pages = [
  join(root, 'README.md'),
  ...(existsSync(docsDir) ? readdirSync(docsDir).filter((name) => name.endsWith('.md')) : []).map((name) =>
    join(docsDir, name),
  ),
];

const blank = (code) => code.replace(/[^\n]/g, ' ');

/** `text` with fenced code blocks and code spans blanked out (line breaks kept, so line numbers stay right). */
function withoutCode(text) {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank).replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, blank);
}

/** The anchors GitHub gives a Markdown file's headings (github-slugger), and the explicit ids and names in its HTML. */
function anchorsOf(file) {
  const anchors = new Set();
  const seen = new Map();
  for (const line of readFileSync(file, 'utf8')
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const text = heading[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
      const base = text
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
        .replace(/ /g, '-');
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const [, id] of line.matchAll(/<[a-z]+\s[^>]*\b(?:id|name)="([^"]+)"/gi)) anchors.add(id);
  }
  return anchors;
}

const inline = /!?\[(?:[^[\]]|\[[^[\]]*\])*\]\(\s*<?([^\s()<>]+)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm;
const dead = [];
let checked = 0;

for (const page of pages) {
  const text = withoutCode(readFileSync(page, 'utf8'));
  const targets = [...text.matchAll(inline), ...text.matchAll(definition)];
  for (const match of targets) {
    const target = match[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // https:, mailto: …
    checked++;
    const line = text.slice(0, match.index).split('\n').length;
    const where = `${relative(root, page)}:${line}`;
    const [path, anchor] = target.split('#', 2);
    const file = path ? resolve(dirname(page), decodeURIComponent(path)) : page;
    if (file !== root && !file.startsWith(root + sep)) {
      dead.push(`${where}: ${target} points outside the package`);
    } else if (!existsSync(file)) {
      dead.push(`${where}: ${target}: ${relative(root, file)} is not in the package`);
    } else if (anchor && file.endsWith('.md') && statSync(file).isFile() && !anchorsOf(file).has(anchor)) {
      dead.push(`${where}: ${target}: ${relative(root, file)} has no heading #${anchor}`);
    }
  }
}

for (const line of dead) console.error(`dead link: ${line}`);
console.log(`packed links: ${checked} relative links in ${pages.length} files, ${dead.length} dead`);
if (dead.length > 0 || checked === 0) process.exit(1);
