/** What a node offers: detected CPUs, memory and GPUs (nvidia-smi where present), overridden by flags. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';
import { ConfigError, type Resources } from '../../protocol/index.js';

export interface ResourceFlags {
  numCpus?: number;
  numGpus?: number;
  /** Bytes. */
  memory?: number;
  /** Custom resources, e.g. { bigmem: 1 }. */
  resources?: Resources;
}

export interface DetectedResources {
  resources: Resources;
  gpuIds: number[];
}

/** Indices of the GPUs nvidia-smi lists, or [] when it is absent or fails. */
export function detectGpus(): number[] {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=index', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 3000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\n').map((l) => l.trim()).filter((l) => /^\d+$/.test(l)).map(Number);
  } catch {
    return [];
  }
}

export function detectResources(flags: ResourceFlags = {}): DetectedResources {
  for (const [name, v] of Object.entries({ numCpus: flags.numCpus, numGpus: flags.numGpus, memory: flags.memory })) {
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw new ConfigError(`${name} must be a non-negative number, got ${v}`);
  }
  const cpus = flags.numCpus ?? availableParallelism();
  let gpuIds: number[];
  if (flags.numGpus !== undefined) {
    const visible = process.env.CUDA_VISIBLE_DEVICES;
    const fromEnv = visible ? visible.split(',').map((s) => Number(s.trim())).filter(Number.isInteger) : [];
    const pool = fromEnv.length ? fromEnv : Array.from({ length: Math.floor(flags.numGpus) }, (_, i) => i);
    gpuIds = pool.slice(0, Math.floor(flags.numGpus));
    while (gpuIds.length < Math.floor(flags.numGpus)) gpuIds.push(gpuIds.length);
  } else {
    gpuIds = detectGpus();
  }
  // As Ray does, offer 70% of the machine's memory to tasks by default.
  const memory = flags.memory ?? Math.floor(totalmem() * 0.7);
  const resources: Resources = { CPU: cpus, memory };
  if (gpuIds.length || (flags.numGpus ?? 0) > 0) resources.GPU = flags.numGpus ?? gpuIds.length;
  for (const [k, v] of Object.entries(flags.resources ?? {})) {
    if (k === 'CPU' || k === 'GPU' || k === 'memory') throw new ConfigError(`resources: use --num-cpus / --num-gpus / --memory for '${k}', not the custom resources map`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`resources.${k} must be a non-negative number, got ${JSON.stringify(v)}`);
    resources[k] = v;
  }
  return { resources, gpuIds };
}
