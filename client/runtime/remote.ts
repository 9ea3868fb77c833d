/**
 * `remote(moduleUrl, exportName, options)`: a remote function or actor class named by module URL and export.
 * Closures cannot travel between processes, so the worker imports the module itself. Whether the export is a class
 * is guessed from its name (PascalCase = class, as JavaScript convention has it); pass `kind` to say otherwise, and
 * the type parameter (`remote<typeof Counter>(…)`) to get typed handles.
 */
import { nanoid } from 'nanoid';
import { InvalidArgumentError, type ExportRef } from '../../protocol/index.js';
import type { ObjectRef } from './object-ref.js';
import { actorOptions, mergeEnv, taskOptions, type ActorOptionsInput, type TaskOptionsInput } from './options.js';
import { ActorHandleTarget } from './serialize.js';
import { getCore } from './state.js';

type AnyFunction = (...args: never[]) => unknown;
type AnyClass = abstract new (...args: never[]) => unknown;

/** Each argument may be given as its value or as an ObjectRef to it (resolved before the call). */
export type RemoteArgs<A extends readonly unknown[]> = { [K in keyof A]: A[K] | ObjectRef<A[K]> };

export interface RemoteFunction<F extends AnyFunction> {
  remote(...args: RemoteArgs<Parameters<F>>): ObjectRef<Awaited<ReturnType<F>>>;
  options(options: TaskOptionsInput): RemoteFunction<F>;
  readonly moduleUrl: string;
  readonly exportName: string;
}

export interface ActorMethod<M> {
  remote(...args: M extends (...a: infer A) => unknown ? RemoteArgs<A> : never[]): ObjectRef<M extends (...a: never[]) => infer R ? Awaited<R> : never>;
}

/** `handle.method.remote(...)` for every method of the class. */
export type ActorHandle<T = Record<string, AnyFunction>> = {
  readonly [K in keyof T as T[K] extends AnyFunction ? K : never]: ActorMethod<T[K]>;
} & { readonly actorId: string; readonly className: string };

export interface ActorClass<C extends AnyClass> {
  remote(...args: RemoteArgs<ConstructorParameters<C>>): ActorHandle<InstanceType<C>>;
  options(options: ActorOptionsInput): ActorClass<C>;
  readonly moduleUrl: string;
  readonly exportName: string;
}

export type Remote<T> = T extends AnyClass ? ActorClass<T> : T extends AnyFunction ? RemoteFunction<T> : RemoteFunction<(...args: unknown[]) => unknown>;

/** Set by init({ runtimeEnv: { workingDir } }): module URLs inside the working dir travel as pkg:// URLs. */
let moduleUrlMapper: ((url: string) => string) | undefined;
export function setModuleUrlMapper(mapper: ((url: string) => string) | undefined): void {
  moduleUrlMapper = mapper;
}
function shipped(ref: ExportRef): ExportRef {
  return moduleUrlMapper ? { module: moduleUrlMapper(ref.module), name: ref.name } : ref;
}

const handleMethods = new WeakMap<object, Map<string, ActorMethod<AnyFunction>>>();

/** A handle is a Proxy: any property other than its own fields is a method stub with `.remote`. */
export function makeActorHandle<T>(actorId: string, className: string): ActorHandle<T> {
  const target = new ActorHandleTarget(actorId, className);
  const methods = new Map<string, ActorMethod<AnyFunction>>();
  const proxy = new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'symbol' || prop in t) return Reflect.get(t, prop, receiver);
      if (prop === 'then' || prop === 'toJSON' || prop === 'inspect') return undefined;
      let m = methods.get(prop);
      if (!m) {
        m = { remote: (...args: unknown[]) => getCore().callActor(t.actorId, prop, args) } as ActorMethod<AnyFunction>;
        methods.set(prop, m);
      }
      return m;
    },
  });
  handleMethods.set(proxy, methods);
  return proxy as unknown as ActorHandle<T>;
}

export function isActorHandle(value: unknown): value is ActorHandle {
  return value instanceof ActorHandleTarget;
}

function guessKind(exportName: string): 'task' | 'actor' {
  return /^[A-Z]/.test(exportName) ? 'actor' : 'task';
}

export function remote<T = unknown>(moduleUrl: string | URL, exportName: string, options: TaskOptionsInput | ActorOptionsInput = {}): Remote<T> {
  const url = typeof moduleUrl === 'string' ? moduleUrl : moduleUrl.href;
  if (!/^(file|data|https?|node):/.test(url)) {
    throw new InvalidArgumentError(`remote(): moduleUrl must be an absolute URL (e.g. new URL('./tasks.js', import.meta.url)), got '${url}'`);
  }
  if (!exportName) throw new InvalidArgumentError('remote(): exportName is required');
  const kind = options.kind ?? guessKind(exportName);
  const ref: ExportRef = { module: url, name: exportName };
  return (kind === 'actor' ? makeActorClass(ref, options as ActorOptionsInput) : makeRemoteFunction(ref, options as TaskOptionsInput)) as Remote<T>;
}

function makeRemoteFunction<F extends AnyFunction>(fn: ExportRef, input: TaskOptionsInput): RemoteFunction<F> {
  const opts = taskOptions(input);
  // Merged once per runtime (the driver's env does not change while it is connected), not per call.
  let mergedFor: object | undefined;
  let merged = opts;
  return {
    moduleUrl: fn.module,
    exportName: fn.name,
    remote: (...args) => {
      const core = getCore();
      if (mergedFor !== core) {
        merged = mergeEnv(opts, core.runtimeEnvVars);
        mergedFor = core;
      }
      return core.submitTask(shipped(fn), args, merged);
    },
    options: (more) => makeRemoteFunction<F>(fn, { ...input, ...more }),
  };
}

function makeActorClass<C extends AnyClass>(cls: ExportRef, input: ActorOptionsInput): ActorClass<C> {
  return {
    moduleUrl: cls.module,
    exportName: cls.name,
    remote: (...args) => {
      const core = getCore();
      const opts = mergeEnv(actorOptions(input, core.namespace), core.runtimeEnvVars);
      const actorId = `a-${nanoid(12)}`;
      const handle = makeActorHandle<InstanceType<C>>(actorId, cls.name);
      // The head answers asynchronously; a failure (name taken) reaches calls as the actor's death cause.
      core.createActor(actorId, shipped(cls), args, opts, input.getIfExists ?? false).catch(() => {});
      return handle;
    },
    options: (more) => makeActorClass<C>(cls, { ...input, ...more }),
  };
}
