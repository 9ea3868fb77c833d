/** Server side of the handshake, shared by the head and an actor's direct-call endpoint. */
import { timingSafeEqual } from 'node:crypto';
import { AuthenticationError, ProtocolError, VersionMismatchError } from './errors.js';
import { PROTOCOL_VERSION, type Hello, type Message } from './messages.js';

/** Constant-time comparison, so that a wrong token reveals nothing of the right one. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Checks the first message of a connection: a hello of our version carrying the cluster token; throws the typed error. */
export function checkHello(m: Message, token: string, server: string): asserts m is Hello {
  if (m.type !== 'hello') throw new ProtocolError(`expected 'hello' first, got '${m.type}'`);
  if (m.version !== PROTOCOL_VERSION) {
    throw new VersionMismatchError(`protocol version ${m.version} is not supported by this ${server} (version ${PROTOCOL_VERSION})`);
  }
  if (!tokenMatches(m.token, token)) throw new AuthenticationError('wrong cluster token');
}
