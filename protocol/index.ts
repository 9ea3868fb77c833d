/** The cluster protocol shared by head, agents, workers and drivers (package subpath `deephyper-ts/protocol`). */
export * from './messages.js';
export * from './errors.js';
export * from './validate.js';
export * from './codec.js';
export * from './connection.js';
export * from './dial.js';
export * from './handshake.js';
