// results.csv in DeepHyper's column format, and reading such a file back (warm start, analysis).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Config, Evaluation, Objective, ParamValue } from '../hpo/types.js';
import type { JobResult } from '../evaluator/types.js';
import { SearchError } from './errors.js';

const TIMESTAMP_COLUMNS = ['m:timestamp_submit', 'm:timestamp_start', 'm:timestamp_end', 'm:timestamp_gather'];

/**
 * Render results as DeepHyper's results.csv: p:<name>..., objective (or objective_0..k-1), job_id, job_status,
 * m:timestamp_* (seconds since the search started), then m:<key> metadata in alphabetical order. Failed objectives
 * are written "F" (or the "F..." string the run returned), as DeepHyper does.
 */
export function resultsToCsv(results: readonly JobResult[], hyperparameters: readonly string[], startedAt: number): string {
  const numObjectives = results.reduce((n, r) => (Array.isArray(r.objective) ? Math.max(n, r.objective.length) : n), 0);
  const objectiveColumns = numObjectives > 0 ? Array.from({ length: numObjectives }, (_, i) => `objective_${i}`) : ['objective'];
  const metaKeys = new Set<string>();
  for (const r of results) for (const k of Object.keys(metadataOf(r))) metaKeys.add(k);
  const metaColumns = [...metaKeys].sort().map((k) => `m:${k}`);
  const header = [...hyperparameters.map((h) => `p:${h}`), ...objectiveColumns, 'job_id', 'job_status', ...TIMESTAMP_COLUMNS, ...metaColumns];
  const lines = [header.map(quote).join(',')];
  for (const r of results) {
    const cells: string[] = hyperparameters.map((h) => formatValue(r.parameters[h]));
    if (r.objective === null) {
      const f = r.failure ?? 'F';
      for (let i = 0; i < objectiveColumns.length; i++) cells.push(f);
    } else if (Array.isArray(r.objective)) {
      for (let i = 0; i < objectiveColumns.length; i++) cells.push(formatValue(r.objective[i]));
    } else {
      cells.push(formatValue(r.objective));
    }
    cells.push(r.id, r.status);
    for (const t of [r.timestamps.submit, r.timestamps.start, r.timestamps.end, r.timestamps.gather]) {
      cells.push(((t - startedAt) / 1000).toFixed(6));
    }
    const meta = metadataOf(r);
    for (const k of [...metaKeys].sort()) cells.push(formatValue(meta[k]));
    lines.push(cells.map(quote).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Write atomically (temp file + rename) so that a reader never sees half a file. */
export function writeResultsCsv(path: string, results: readonly JobResult[], hyperparameters: readonly string[], startedAt: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, resultsToCsv(results, hyperparameters, startedAt));
  renameSync(tmp, path);
}

/** Metadata columns of one result: stopper facts, errors, then the run's own metadata (private "_" keys dropped). */
function metadataOf(r: JobResult): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.metadata)) if (!k.startsWith('_') && !k.startsWith('timestamp_')) meta[k] = v;
  if (r.budget !== undefined) meta.budget = r.budget;
  if (r.stopped !== undefined) meta.stopped = r.stopped;
  if (r.stopReason !== undefined) meta.stop_reason = r.stopReason;
  if (r.error !== undefined) meta.error = r.error;
  return meta;
}

function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function quote(cell: string): string {
  return /[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** Parse RFC 4180 CSV text into rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** A results.csv read back: evaluations (for warm start) and the hyperparameter columns. */
export interface ResultsTable {
  hyperparameters: string[];
  evaluations: Evaluation[];
}

/**
 * Read a results.csv written by this package or by DeepHyper. Parameter cells become numbers when numeric,
 * booleans for True/False, strings otherwise; empty cells (inactive hyperparameters) are left out.
 */
export function readResultsCsv(path: string): ResultsTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new SearchError('CSV_BAD_FILE', `cannot read results file ${path}`, { cause });
  }
  const rows = parseCsv(text).filter((r) => r.length > 1 || r[0] !== '');
  if (rows.length === 0) throw new SearchError('CSV_BAD_FILE', `${path}: empty file, expected a header line`);
  const header = rows[0]!;
  const params = header.map((h, i) => ({ h, i })).filter(({ h }) => h.startsWith('p:'));
  const single = header.indexOf('objective');
  const multi = header.map((h, i) => ({ h, i })).filter(({ h }) => /^objective_\d+$/.test(h));
  if (params.length === 0 || (single < 0 && multi.length === 0)) {
    throw new SearchError('CSV_BAD_FILE', `${path}:1: header needs p:<name> columns and an objective column, got ${header.join(',')}`);
  }
  const metaCols = header.map((h, i) => ({ h, i })).filter(({ h }) => h.startsWith('m:') && !h.startsWith('m:timestamp_'));
  const evaluations: Evaluation[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length !== header.length) {
      throw new SearchError('CSV_BAD_FILE', `${path}:${r + 1}: ${row.length} cells, the header has ${header.length}`);
    }
    const config: Config = {};
    for (const { h, i } of params) if (row[i] !== '') config[h.slice(2)] = parseValue(row[i]!);
    const cells = single >= 0 ? [row[single]!] : multi.map(({ i }) => row[i]!);
    const failed = cells.some((c) => c === '' || c.startsWith('F') || !Number.isFinite(Number(c)));
    let objective: Objective | null = null;
    if (!failed) objective = single >= 0 ? Number(cells[0]) : cells.map(Number);
    const metadata: Record<string, unknown> = {};
    for (const { h, i } of metaCols) if (row[i] !== '') metadata[h.slice(2)] = parseValue(row[i]!);
    const evaluation: Evaluation = { config, objective, ...(failed ? { failed: true } : {}), metadata };
    if (typeof metadata.budget === 'number') evaluation.budget = metadata.budget;
    evaluations.push(evaluation);
  }
  return { hyperparameters: params.map(({ h }) => h.slice(2)), evaluations };
}

function parseValue(cell: string): ParamValue {
  if (cell === 'True' || cell === 'true') return true;
  if (cell === 'False' || cell === 'false') return false;
  const n = Number(cell);
  return cell.trim() !== '' && Number.isFinite(n) ? n : cell;
}
