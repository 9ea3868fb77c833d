/**
 * Serialization of user values (arguments, results, put values): msgpack with structured-clone support (Map, Set,
 * Date, RegExp, Error, typed arrays, cycles) plus two extensions, ObjectRef and ActorHandle, so that both travel
 * inside values. Functions and closures cannot travel: name them by module URL and export instead.
 */
import { Packr, addExtension } from 'msgpackr';
import { ObjectRef } from './object-ref.js';
import { noteBufferFreed } from './collector.js';

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

// copyBuffers: a decoded value never aliases the stored bytes (a caller may mutate what get() returned).
const valuePackr = new Packr({ structuredClone: true, moreTypes: true, copyBuffers: true });

/**
 * Large binary values (a top-level typed array of at least RAW_MIN_BYTES) skip msgpack: an 8-byte header
 * (0xc1, a byte msgpack never uses, then the array type) and the raw bytes, copied once into a buffer that may come
 * from a pool of freed ones (warm memory copies several times faster than fresh pages).
 */
const RAW_MARKER = 0xc1;
const RAW_MIN_BYTES = 1 << 20;
const RAW_HEADER = 8;
type TypedArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView; BYTES_PER_ELEMENT: number };
const RAW_TYPES: TypedArrayCtor[] = [
  Uint8Array, Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as unknown as TypedArrayCtor[];
const BUFFER_CODE = 255;

/**
 * Freed raw buffers, reused by the next large put of a size that fits: a ref dies only at a full GC, which frees the
 * puts made since the previous one all at once, so the pool holds several. Eight: more keeps so much memory that fresh
 * allocations land on cold pages, slower here (bench:micro). Emptied after a second without large puts.
 */
const pool: Uint8Array[] = [];
const POOL_MAX = 8;
const POOL_IDLE_MS = 1000;
let poolTrim: NodeJS.Timeout | undefined;
let freshBuffers = 0;

/** How many large values were copied into fresh memory because the pool had no buffer for them (diagnostics). */
export function freshBufferCount(): number {
  return freshBuffers;
}

/** A pooled buffer serves a value that fills at least 80% of it (no large buffer wasted on a small value). */
function serves(b: Uint8Array, size: number): boolean {
  return b.byteLength >= size && b.byteLength <= size * 1.25;
}

function takeBuffer(size: number): Uint8Array {
  for (let i = 0; i < pool.length; i++) {
    const b = pool[i]!;
    if (serves(b, size)) {
      pool.splice(i, 1);
      return b.subarray(0, size);
    }
  }
  freshBuffers++;
  return new Uint8Array(size);
}

/** Whether encodeValue made this buffer for a large binary value (one the pool can take back). */
export function isPoolable(data: Uint8Array): boolean {
  return data[0] === RAW_MARKER && data.byteOffset === 0 && data.byteLength >= RAW_MIN_BYTES;
}

/**
 * Whether the pool has fewer than four buffers that could serve a value of `size` bytes. Four: the values a
 * collection frees reach the pool a few macrotasks after it is asked for, and puts go on meanwhile.
 */
export function poolLow(size: number): boolean {
  let fits = 0;
  for (const b of pool) if (serves(b, size)) fits++;
  return fits < 4;
}

/** Gives a buffer made by encodeValue back for reuse; only when nothing else can still read it. */
export function releaseEncoded(data: Uint8Array): void {
  if (!isPoolable(data)) return;
  noteBufferFreed();
  const whole = new Uint8Array(data.buffer, 0, data.buffer.byteLength);
  if (pool.length >= POOL_MAX) pool.shift();
  pool.push(whole);
  if (poolTrim) poolTrim.refresh();
  else {
    poolTrim = setTimeout(() => {
      pool.length = 0;
      poolTrim = undefined;
    }, POOL_IDLE_MS);
    poolTrim.unref();
  }
}

function rawCode(value: ArrayBufferView): number {
  if (Buffer.isBuffer(value)) return BUFFER_CODE;
  return RAW_TYPES.findIndex((C) => value.constructor === (C as unknown));
}

export function encodeValue(value: unknown): Uint8Array {
  if (ArrayBuffer.isView(value) && value.byteLength >= RAW_MIN_BYTES) {
    const code = rawCode(value);
    if (code >= 0) {
      const out = takeBuffer(RAW_HEADER + value.byteLength);
      out[0] = RAW_MARKER;
      out[1] = code;
      out.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), RAW_HEADER);
      return out;
    }
  }
  return valuePackr.pack(value) as Uint8Array;
}

/**
 * msgpackr keeps the object graph it last packed (its structured-clone reference map) until the next pack: after a
 * value holding refs, an empty pack lets those refs be collected, so their owners can free what they point to.
 */
export function forgetLastEncoded(): void {
  valuePackr.pack(null);
}

export function decodeValue<T = unknown>(data: Uint8Array): T {
  if (data[0] === RAW_MARKER) {
    // Uint8Array's slice copies (Buffer's would return a view): the result owns a fresh, aligned buffer.
    const bytes = Uint8Array.prototype.slice.call(data, RAW_HEADER);
    const code = data[1]!;
    if (code === BUFFER_CODE) return Buffer.from(bytes.buffer, 0, bytes.byteLength) as T;
    const C = RAW_TYPES[code];
    if (!C) throw new TypeError(`corrupt value: unknown raw array type ${code}`);
    return new C(bytes.buffer, 0, bytes.byteLength / C.BYTES_PER_ELEMENT) as T;
  }
  return valuePackr.unpack(data) as T;
}
