// Every ```ts (or ```typescript) block of README.md and docs/*.md type-checks on its own, against the package's built typings.
//
// Convention: a block whose first line is a comment naming a file (`// tasks.ts`, `// tasks.ts: …`) is saved
// under that name, so the other blocks of the same page can import it as './tasks.js'; any other block is saved
// as block-<n>.ts. Each page gets its own directory, and every block is a module (imports at its top).
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

interface Block {
  page: string; // path relative to the repo root, e.g. docs/search.md
  startLine: number; // 1-based markdown line of the block's first code line
  code: string;
  fileName: string; // absolute path the block is saved as
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

const NAMED_FILE = /^\/\/\s*([\w.-]+\.ts)\b/;

function extractBlocks(page: string, dir: string): Block[] {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const blocks: Block[] = [];
  const names = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(?:ts|typescript)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const indent = fence[1]!.length; // a block inside a list item is indented
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    const code = lines.slice(start, end).map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length))).join('\n');
    const named = NAMED_FILE.exec(code)?.[1];
    const name = named ?? `block-${blocks.length + 1}.ts`;
    if (names.has(name)) throw new Error(`${page}:${start + 1}: two blocks are saved as ${name}`);
    names.add(name);
    blocks.push({ page, startLine: start + 1, code: code + '\n', fileName: join(dir, name) });
    i = end;
  }
  return blocks;
}

// Inside the package root so that 'deephyper-ts/…' resolves through package.json "exports" to dist/*.d.ts.
const workDir = mkdtempSync(join(root, '.doc-examples-'));
t.teardown(() => rmSync(workDir, { recursive: true, force: true }));

const blocks: Block[] = [];
for (const page of pages) {
  const dir = join(workDir, page.replace(/[/.]/g, '_'));
  mkdirSync(dir);
  blocks.push(...extractBlocks(page, dir));
}
for (const block of blocks) writeFileSync(block.fileName, block.code);

t.ok(blocks.length >= 10, `found ${blocks.length} ts blocks in ${pages.length} pages`);

const program = ts.createProgram(
  blocks.map((b) => b.fileName),
  {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    moduleDetection: ts.ModuleDetectionKind.Force, // a block without imports is still its own module
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    noEmit: true,
    skipLibCheck: true,
  },
);

function describe(d: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  const block = d.file && blocks.find((b) => b.fileName === d.file!.fileName);
  if (!d.file || d.start === undefined) return `TS${d.code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const where = block ? `${block.page}:${block.startLine + line}:${character + 1}` : `${relative(root, d.file.fileName)}:${line + 1}`;
  return `${where} TS${d.code}: ${message}`;
}

const diagnostics = ts.getPreEmitDiagnostics(program);
const blockFiles = new Set(blocks.map((b) => b.fileName));
t.strictSame(
  diagnostics.filter((d) => !d.file || !blockFiles.has(d.file.fileName)).map(describe),
  [],
  'no diagnostics outside the blocks (compiler options, typings)',
);
for (const block of blocks) {
  const own = diagnostics.filter((d) => d.file?.fileName === block.fileName).map(describe);
  const firstLine = block.code.split('\n')[0]!.trim();
  t.strictSame(own, [], `${block.page}:${block.startLine} ${firstLine}`);
}
