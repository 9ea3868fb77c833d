/**
 * ObjectRef: a reference to a value that a task returns or `put` stores. The process that created it (its owner)
 * tracks the value; any process can pass the ref on and `get` it. Refs are plain serializable handles.
 */
export class ObjectRef<T = unknown> {
  /** Only for typing: refs carry the type of their value. */
  declare readonly __value?: T;
  constructor(
    /** Object id (for a task, its task id). */
    readonly id: string,
    /** Connection id of the owner process. */
    readonly ownerId: string,
  ) {}
  toString(): string {
    return `ObjectRef(${this.id})`;
  }
  toJSON(): { objectRef: string } {
    return { objectRef: this.id };
  }
}
