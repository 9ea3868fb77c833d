/**
 * A message connection over one WebSocket: coalesces every message sent during one event-loop turn into one frame,
 * decodes and validates inbound frames, and keeps heartbeats both ways. A malformed frame closes only this
 * connection, after telling the peer why.
 */
import type WebSocket from 'ws';
import { decodeFrame, encodeFrames } from './codec.js';
import { ConnectionClosedError, RuntimeError, ProtocolError, toWireError } from './errors.js';
import type { Message } from './messages.js';

export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024;
export const DEFAULT_HEARTBEAT_MS = 1000;
/** Close code a worker sends when its agent is gone: the node is going down with it. */
export const CLOSE_AGENT_GONE = 4100;

export interface ConnectionOptions {
  maxFrameBytes?: number;
  /** Interval of heartbeats sent when the connection is otherwise idle. */
  heartbeatMs?: number;
  /** Close when nothing arrives for this long (0 = never). */
  timeoutMs?: number;
}

export type MessageHandler = (message: Message, connection: Connection) => void;

export class Connection {
  readonly socket: WebSocket;
  private outbox: Message[] = [];
  private flushScheduled = false;
  private closed = false;
  private handler: MessageHandler | undefined;
  private closeHandlers: ((reason: string) => void)[] = [];
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly maxFrameBytes: number;
  private heartbeatMs: number;
  private timeoutMs: number;
  /** The TCP socket under the WebSocket, when known (client side): lets a driver stop it keeping the process alive. */
  rawSocket: { ref(): unknown; unref(): unknown } | undefined;
  /** This side's IP address on the connection (client side): the interface the peer can reach us on. */
  localAddress: string | undefined;
  /** Whether an open connection keeps the process alive (default yes). */
  setKeepsProcessAlive(alive: boolean): void {
    if (alive) this.rawSocket?.ref();
    else this.rawSocket?.unref();
  }
  /** Why the connection closed, once it has. */
  closeReason: string | undefined;
  /** True when this side closed it because the peer fell silent for longer than the timeout. */
  timedOut = false;
  /** WebSocket close code sent by the peer, when it sent one. */
  closeCode: number | undefined;

  constructor(socket: WebSocket, options: ConnectionOptions = {}) {
    this.socket = socket;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.timeoutMs = options.timeoutMs ?? 0;
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.onClosed(`socket closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`);
    });
    socket.on('error', (error) => this.onClosed(`socket error: ${error.message}`));
    this.startTimer();
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }
  onClose(handler: (reason: string) => void): void {
    if (this.closed) handler(this.closeReason ?? 'closed');
    else this.closeHandlers.push(handler);
  }
  get isOpen(): boolean {
    return !this.closed;
  }
  /** Bytes queued in the socket and not yet written: the sender's backpressure signal. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  setTiming(heartbeatMs: number, timeoutMs: number): void {
    this.heartbeatMs = heartbeatMs;
    this.timeoutMs = timeoutMs;
    this.startTimer();
  }

  send(message: Message): void {
    if (this.closed) return;
    this.outbox.push(message);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes every queued message now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.outbox.length === 0) return;
    if (this.socket.readyState === this.socket.CONNECTING) {
      // Still dialing (a heartbeat came due first): send once open.
      this.flushScheduled = true;
      this.socket.once('open', () => this.flush());
      return;
    }
    const batch = this.outbox;
    this.outbox = [];
    let frames: Uint8Array[];
    try {
      frames = encodeFrames(batch, this.maxFrameBytes);
    } catch (error) {
      // One message too large: drop the whole batch on the floor would lose others, so send them one by one.
      frames = [];
      for (const m of batch) {
        try {
          frames.push(...encodeFrames([m], this.maxFrameBytes));
        } catch (e) {
          this.onSendFailure?.(m, e as RuntimeError);
        }
      }
    }
    for (const f of frames) this.socket.send(f, { binary: true });
    this.lastSent = Date.now();
  }

  /** Called for a message that could not be encoded (too large); the sender fails the request it belongs to. */
  onSendFailure: ((message: Message, error: RuntimeError) => void) | undefined;

  /** Tells the peer what went wrong, then closes. */
  fail(error: RuntimeError): void {
    if (this.closed) return;
    this.outbox.push({ type: 'error', error: toWireError(error) });
    this.flush();
    this.close(4000 + (error.code === 'AUTHENTICATION' ? 1 : error.code === 'VERSION_MISMATCH' ? 2 : 0), error.message.slice(0, 100));
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.flush();
    try {
      this.socket.close(code, reason);
    } catch {
      this.socket.terminate();
    }
    // A peer that never answers the close handshake must not keep us waiting.
    setTimeout(() => this.socket.terminate(), 2000).unref();
    this.onClosed(`closed locally${reason ? `: ${reason}` : ''}`);
  }

  terminate(reason: string): void {
    this.socket.terminate();
    this.onClosed(reason);
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    this.lastReceived = Date.now();
    let messages: Message[];
    try {
      if (!isBinary) throw new ProtocolError('text frames are not part of the protocol');
      messages = decodeFrame(data);
    } catch (error) {
      this.fail(error instanceof RuntimeError ? error : new ProtocolError(String(error)));
      return;
    }
    for (const m of messages) {
      if (this.closed) return;
      if (m.type === 'heartbeat') continue;
      try {
        this.handler?.(m, this);
      } catch (error) {
        this.fail(error instanceof RuntimeError ? error : new ProtocolError(`handling '${m.type}' failed: ${(error as Error).message}`, { cause: error }));
        return;
      }
    }
  }

  private onClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    if (this.timer) clearInterval(this.timer);
    this.outbox = [];
    const handlers = this.closeHandlers;
    this.closeHandlers = [];
    for (const h of handlers) h(reason);
  }

  private startTimer(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.closed) return;
    const tick = Math.max(10, Math.min(this.heartbeatMs, this.timeoutMs || this.heartbeatMs) / 2);
    this.timer = setInterval(() => {
      const now = Date.now();
      if (this.timeoutMs > 0 && now - this.lastReceived > this.timeoutMs) {
        this.timedOut = true;
        this.terminate(`no message from peer for ${now - this.lastReceived} ms (timeout ${this.timeoutMs} ms)`);
        return;
      }
      if (now - this.lastSent >= this.heartbeatMs) this.send({ type: 'heartbeat' });
    }, tick);
    this.timer.unref();
  }
}

export function closedError(what: string, reason: string | undefined): ConnectionClosedError {
  return new ConnectionClosedError(`${what}: connection closed (${reason ?? 'unknown reason'})`);
}
