// Loading a run function from a module URL, the same way in the main thread, a worker thread, a child process or
// an actor on another node.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EvaluatorError } from './errors.js';
import { errorMessage, type RunOutcome } from './pool.js';
import type { RunFunction, RunningJob } from './types.js';

/** A file URL, an absolute or ./relative path, or a package specifier, as a string import() accepts anywhere. */
export function moduleSpecifier(moduleUrl: URL | string): string {
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(moduleUrl)) return moduleUrl;
  if (isAbsolute(moduleUrl) || moduleUrl.startsWith('.')) return pathToFileURL(resolve(moduleUrl)).href;
  return moduleUrl;
}

const cache = new Map<string, Promise<RunFunction>>();

export function loadRunFunction(specifier: string, exportName: string): Promise<RunFunction> {
  const key = `${specifier}#${exportName}`;
  let loaded = cache.get(key);
  if (!loaded) {
    loaded = (async () => {
      let mod: Record<string, unknown>;
      try {
        mod = (await import(specifier)) as Record<string, unknown>;
      } catch (cause) {
        throw new EvaluatorError('EVALUATOR_BAD_MODULE', `cannot import ${specifier}: ${(cause as Error).message ?? cause}`, { cause });
      }
      const fn = mod[exportName];
      if (typeof fn !== 'function') {
        const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
        throw new EvaluatorError('EVALUATOR_BAD_MODULE', `${specifier} has no exported function "${exportName}" (functions exported: ${names.join(', ') || 'none'})`);
      }
      return fn as RunFunction;
    })();
    cache.set(key, loaded);
    loaded.catch(() => cache.delete(key));
  }
  return loaded;
}

/** Loads the run function and runs one evaluation, turning a throw (or a bad module) into a 'threw' outcome. */
export async function runToOutcome(specifier: string, exportName: string, job: RunningJob, runKwargs: unknown): Promise<RunOutcome> {
  try {
    const fn = await loadRunFunction(specifier, exportName);
    return { kind: 'returned', output: await fn(job, runKwargs) };
  } catch (err) {
    return { kind: 'threw', message: errorMessage(err), code: (err as { code?: string }).code };
  }
}
