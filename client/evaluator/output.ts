// Turning whatever a run function returned into an objective, a failure, and metadata (DeepHyper's rules:
// a number, a list for several objectives, a string "F..." for a failure, or { objective, metadata }).
import type { Objective } from '../hpo/types.js';
import type { RunOutput } from './types.js';

export interface NormalizedOutput {
  objective: Objective | null;
  failure?: string;
  error?: string;
  metadata: Record<string, unknown>;
}

/** `lastRecorded` stands in for a missing objective (a run that stopped early and returned nothing). */
export function normalizeOutput(output: RunOutput, lastRecorded: number | undefined): NormalizedOutput {
  if (output === undefined || output === null) {
    if (lastRecorded !== undefined && Number.isFinite(lastRecorded)) return { objective: lastRecorded, metadata: {} };
    return { objective: null, failure: 'F', error: 'the run returned no objective and recorded none', metadata: {} };
  }
  if (typeof output === 'object' && !Array.isArray(output)) {
    const metadata = isRecord(output.metadata) ? { ...output.metadata } : {};
    for (const [k, v] of Object.entries(output)) if (k !== 'objective' && k !== 'metadata') metadata[k] = v;
    const inner = normalizeOutput(output.objective as RunOutput, lastRecorded);
    return { ...inner, metadata: { ...metadata, ...inner.metadata } };
  }
  if (typeof output === 'string') {
    if (output.startsWith('F')) return { objective: null, failure: output, metadata: {} };
    const n = Number(output);
    if (output.trim() !== '' && Number.isFinite(n)) return { objective: n, metadata: {} };
    return { objective: null, failure: 'F', error: `the run returned the string ${JSON.stringify(output.slice(0, 80))}, not an objective`, metadata: {} };
  }
  if (typeof output === 'number') {
    return Number.isFinite(output) ? { objective: output, metadata: {} } : { objective: null, failure: 'F', error: `non-finite objective ${output}`, metadata: {} };
  }
  if (Array.isArray(output)) {
    if (output.length > 0 && output.every((v) => typeof v === 'number' && Number.isFinite(v))) return { objective: [...output], metadata: {} };
    return { objective: null, failure: 'F', error: `objective list with a non-finite or non-numeric value: ${JSON.stringify(output).slice(0, 80)}`, metadata: {} };
  }
  return { objective: null, failure: 'F', error: `unsupported run output of type ${typeof output}`, metadata: {} };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
