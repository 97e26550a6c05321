import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * The layering table of docs/architecture.md ("folder | concern | may import") is the one
 * statement of who may import whom; this reads it and turns it into per-folder
 * no-restricted-imports rules (and the same patterns for import() and import types, which
 * that rule does not see). A row is a folder (`src/loop/`) or a file (`cli/main.ts`,
 * whose list adds to its folder's); the third column's backticked paths are what it may
 * import besides itself, "anything" lifts every restriction. An import of a path that no
 * row names (a package, package.json) is not restricted.
 */
export function layeringTable() {
  const file = join(root, 'docs/architecture.md');
  const lines = readFileSync(file, 'utf8').split('\n');
  const head = lines.findIndex((l) => /^\|\s*folder\s*\|\s*concern\s*\|\s*may import\s*\|/.test(l));
  if (head < 0) {
    throw new Error(
      `${file}: no "| folder | concern | may import |" table; the lint's layering rules are read from it`,
    );
  }
  const rows = [];
  for (const line of lines.slice(head + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1);
    const path = /`([^`]+)`/.exec(cells[0] ?? '')?.[1];
    if (cells.length !== 3 || path === undefined) {
      throw new Error(
        `${file}: layering table row "${line}": want three cells and a \`path\` first`,
      );
    }
    const may = cells[2];
    for (const m of may.matchAll(/`([^`]+)`/g)) {
      if (!existsSync(join(root, m[1]))) {
        throw new Error(
          `${file}: layering table row ${path}: "may import" names \`${m[1]}\`, which is no path of the tree (write only paths in backticks there)`,
        );
      }
    }
    rows.push({
      path,
      anything: /\banything\b/.test(may.replace(/`[^`]*`/g, '')),
      allowed: [...may.matchAll(/`([^`]+)`/g)].map((m) => m[1]),
    });
  }
  return rows;
}

const under = (path, entry) => (entry.endsWith('/') ? path.startsWith(entry) : path === entry);
/** The import specifier of a table path (`.ts` files are imported as `.js`). */
const spec = (path) => path.replace(/\.ts$/, '.js');
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Regexes of what a file in `dir` under `row` may not import, as written relative to `dir`. */
function forbidden(rows, dir, covering) {
  const allowed = covering.flatMap((r) => [r.path, ...r.allowed]);
  const own = covering[0].path;
  const out = [];
  // A file row inside a folder row is banned with its folder.
  const units = rows.filter(
    (t) => !rows.some((o) => o !== t && o.path.endsWith('/') && under(t.path, o.path)),
  );
  for (const target of units) {
    if (target.path === own || under(own, target.path) || under(target.path, own)) continue;
    if (allowed.some((a) => under(target.path, a))) continue;
    const exceptions = allowed.filter((a) => under(a, target.path));
    let rel = posix.relative(dir, spec(target.path)) + (target.path.endsWith('/') ? '/' : '');
    if (!rel.startsWith('.')) rel = `./${rel}`;
    const but = exceptions.map(
      (a) => escape(spec(a).slice(target.path.length)) + (a.endsWith('/') ? '' : '$'),
    );
    const tail = target.path.endsWith('/') ? '' : '$';
    out.push({
      target: target.path,
      regex: `^${escape(rel)}${but.length ? `(?!${but.join('|')})` : ''}${tail}`,
    });
  }
  return out;
}

/** Folders (relative, posix) under `dir` that hold .ts files, `dir` included. */
function tsFolders(dir) {
  const entries = readdirSync(join(root, dir), { withFileTypes: true });
  const here = entries.some((e) => e.isFile() && e.name.endsWith('.ts')) ? [dir] : [];
  return here.concat(
    ...entries.filter((e) => e.isDirectory()).map((e) => tsFolders(posix.join(dir, e.name))),
  );
}

function layeringRules() {
  const rows = layeringTable();
  const restricted = rows.filter((r) => !r.anything && r.path !== 'kmod/');
  const configs = [];
  const rule = (files, dir, covering) => {
    const bans = forbidden(rows, dir, covering);
    const message = (b) =>
      `docs/architecture.md: ${covering.map((r) => r.path).join(' + ')} may not import ${b.target}` +
      ' (its "may import" column); import from a lower layer, or change the table and say why';
    // esquery reads a regex up to the next '/', so the selectors spell '/' as \x2F.
    const sel = (b) => b.regex.replace(/\\\//g, '\\x2F');
    configs.push({
      files,
      rules: {
        'no-restricted-imports': [
          'error',
          { patterns: bans.map((b) => ({ regex: b.regex, message: message(b) })) },
        ],
        'no-restricted-syntax': [
          'error',
          ...bans.flatMap((b) => [
            { selector: `ImportExpression[source.value=/${sel(b)}/]`, message: message(b) },
            { selector: `TSImportType[source.value=/${sel(b)}/]`, message: message(b) },
          ]),
        ],
      },
    });
  };
  // Folders first, then the file rows, which add to their folder's list (a later config
  // object replaces an earlier one's options for the same rule).
  for (const row of restricted.filter((r) => r.path.endsWith('/'))) {
    for (const dir of tsFolders(row.path.slice(0, -1))) rule([`${dir}/*.ts`], dir, [row]);
  }
  for (const row of restricted.filter((r) => !r.path.endsWith('/'))) {
    const folder = restricted.find((r) => r.path.endsWith('/') && under(row.path, r.path));
    rule([row.path], posix.dirname(row.path), folder ? [folder, row] : [row]);
  }
  return configs;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'kmod/**', '.vm/**', 'build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  ...layeringRules(),
);
