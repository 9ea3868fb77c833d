/**
 * Serialization of user values (arguments, results, put values): msgpack with structured-clone support (Map, Set,
 * Date, RegExp, Error, typed arrays, cycles) plus two extensions, ObjectRef and ActorHandle, so that both travel
 * inside values. Functions and closures cannot travel: name them by module URL and export instead.
 */
import { Packr, addExtension } from 'msgpackr';
import { ObjectRef } from './object-ref.js';

/** Hooks the runtime installs: build refs/handles on decode, note refs that escape on encode. */
export interface SerializationHooks {
  makeRef(id: string, ownerId: string): ObjectRef;
  makeActorHandle(actorId: string, className: string): object;
  isActorHandle(value: object): value is { actorId: string; className: string };
  onRefSerialized(ref: ObjectRef): void;
}

let hooks: SerializationHooks | undefined;

export function setSerializationHooks(h: SerializationHooks): void {
  hooks = h;
}

/** A marker class for msgpackr: actor handles are Proxies over instances of it. */
export class ActorHandleTarget {
  constructor(
    public actorId: string,
    public className: string,
  ) {}
}

addExtension({
  Class: ObjectRef,
  type: 0x41,
  write(ref: ObjectRef) {
    hooks?.onRefSerialized(ref);
    return [ref.id, ref.ownerId];
  },
  read(data: [string, string]) {
    return hooks ? hooks.makeRef(data[0], data[1]) : new ObjectRef(data[0], data[1]);
  },
});

addExtension({
  Class: ActorHandleTarget,
  type: 0x42,
  write(h: ActorHandleTarget) {
    return [h.actorId, h.className];
  },
  read(data: [string, string]) {
    return hooks ? hooks.makeActorHandle(data[0], data[1]) : new ActorHandleTarget(data[0], data[1]);
  },
});

const valuePackr = new Packr({ structuredClone: true, moreTypes: true });

export function encodeValue(value: unknown): Uint8Array {
  return valuePackr.pack(value) as Uint8Array;
}

export function decodeValue<T = unknown>(data: Uint8Array): T {
  return valuePackr.unpack(data) as T;
}
