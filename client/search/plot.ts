// An SVG plot of a search: each evaluation's objective (failures marked at the bottom) and the best so far, like
// DeepHyper's plot_search_trajectory_single_objective_hpo. Self-contained SVG, no dependency.
import type { JobResult } from '../evaluator/types.js';
import { objectiveScore } from './results.js';

export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Axis label of the objective (default "objective"). */
  yLabel?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round tick positions covering [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Objective over evaluations (single objective; with several, their sum). */
export function plotSearchTrajectory(evaluations: readonly JobResult[], options: PlotOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const m = { left: 70, right: 20, top: 40, bottom: 50 };
  const values = evaluations.map((e) => objectiveScore(e.objective) ?? null);
  const finite = values.filter((v): v is number => v !== null);
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const n = Math.max(evaluations.length, 2);
  const x = (i: number) => m.left + ((width - m.left - m.right) * i) / (n - 1);
  const y = (v: number) => m.top + ((height - m.top - m.bottom) * (hi - v)) / (hi - lo);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(options.title ?? 'Search trajectory')}</text>`);
  for (const v of ticks(lo, hi, 6)) {
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  for (const i of ticks(0, n - 1, 8).filter(Number.isInteger)) {
    parts.push(`<text x="${x(i).toFixed(1)}" y="${height - m.bottom + 18}" text-anchor="middle">${i + 1}</text>`);
  }
  parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="black"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="black"/>`);
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 12}" text-anchor="middle">evaluation</text>`);
  parts.push(`<text transform="translate(18 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel ?? 'objective')}</text>`);
  let best = -Infinity;
  const bestPoints: string[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      parts.push(`<text x="${x(i).toFixed(1)}" y="${height - m.bottom - 4}" text-anchor="middle" fill="#d62728">×</text>`);
    } else {
      const stopped = evaluations[i]!.stopped === true;
      parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${stopped ? 'none' : '#1f77b4'}" stroke="#1f77b4"/>`);
      best = Math.max(best, v);
    }
    if (best > -Infinity) bestPoints.push(`${x(i).toFixed(1)},${y(best).toFixed(1)}`);
  });
  if (bestPoints.length) parts.push(`<polyline points="${bestPoints.join(' ')}" fill="none" stroke="#ff7f0e" stroke-width="2"/>`);
  const lx = width - m.right - 190;
  parts.push(`<circle cx="${lx}" cy="${m.top + 8}" r="3.5" fill="#1f77b4"/><text x="${lx + 10}" y="${m.top + 12}">evaluation</text>`);
  parts.push(`<circle cx="${lx + 85}" cy="${m.top + 8}" r="3.5" fill="none" stroke="#1f77b4"/><text x="${lx + 95}" y="${m.top + 12}">stopped early</text>`);
  parts.push(`<line x1="${lx - 4}" x2="${lx + 10}" y1="${m.top + 26}" y2="${m.top + 26}" stroke="#ff7f0e" stroke-width="2"/><text x="${lx + 14}" y="${m.top + 30}">best so far</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
