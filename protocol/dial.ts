/** Client side of the handshake: open a WebSocket to the head, send hello, wait for welcome (or a typed error). */
import { connect } from 'node:net';
import WebSocket from 'ws';
import { Connection, type ConnectionOptions } from './connection.js';
import { ConnectionClosedError, fromWireError, ProtocolError, type RuntimeError } from './errors.js';
import { PROTOCOL_VERSION, type Hello, type Message, type Welcome } from './messages.js';

export interface DialOptions extends ConnectionOptions {
  /** Give up when the head has not welcomed us within this time. */
  connectTimeoutMs?: number;
}

/** Normalizes "host:port" or "ws://host:port" to a ws:// URL. */
export function headUrl(address: string): string {
  return /^wss?:\/\//.test(address) ? address : `ws://${address}`;
}

export async function dial(
  address: string,
  hello: Omit<Hello, 'type' | 'version'> & { version?: number },
  options: DialOptions = {},
): Promise<{ conn: Connection; welcome: Welcome; early: Message[] }> {
  const url = headUrl(address);
  const ws = new WebSocket(url, { maxPayload: options.maxFrameBytes, perMessageDeflate: false });
  const conn = new Connection(ws, options);
  // Messages that arrive in the welcome's frame, before the caller installs its handler.
  const early: Message[] = [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: RuntimeError | undefined, welcome?: Welcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        conn.terminate(error.message);
        reject(error);
      } else resolve({ conn, welcome: welcome!, early });
    };
    const timer = setTimeout(
      () => finish(new ConnectionClosedError(`could not reach the head at ${url} within ${options.connectTimeoutMs ?? 10_000} ms`)),
      options.connectTimeoutMs ?? 10_000,
    );
    ws.once('upgrade', (res) => {
      conn.rawSocket = res.socket;
      conn.localAddress = res.socket.localAddress;
    });
    ws.once('open', () => conn.send({ type: 'hello', version: PROTOCOL_VERSION, ...hello }));
    ws.once('error', (e) => finish(new ConnectionClosedError(`could not reach the head at ${url}: ${e.message}`, { cause: e })));
    conn.onMessage((m) => {
      if (settled) {
        early.push(m);
        return;
      }
      if (m.type === 'welcome') finish(undefined, m);
      else if (m.type === 'error') finish(fromWireError(m.error));
      else finish(new ProtocolError(`expected 'welcome' from the head, got '${m.type}'`));
    });
    conn.onClose((reason) => finish(new ConnectionClosedError(`the head at ${url} closed the connection during the handshake (${reason})`)));
  });
}

/** Whether something accepts TCP connections at `host:port` (a cheap probe before a full handshake). */
export function isListening(address: string, timeoutMs = 1000): Promise<boolean> {
  const m = /^(?:wss?:\/\/)?(.+):(\d+)$/.exec(address);
  if (!m) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host: m[1]!, port: Number(m[2]) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(timeoutMs, () => done(false));
  });
}
