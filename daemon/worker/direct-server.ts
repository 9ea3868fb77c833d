/**
 * An actor's direct-call endpoint (Ray's direct actor calls): callers that learned its address from the head connect
 * here and send method calls straight to this process, skipping the head's two hops. Same framing and handshake as
 * the head (hello with version and cluster token); only calls and their cancellation are accepted.
 */
import { WebSocketServer } from 'ws';
import { Connection, DEFAULT_MAX_FRAME_BYTES, ProtocolError, checkHello, type Message, type MessageOf } from '../../protocol/index.js';

export interface DirectServerOptions {
  host: string;
  token: string;
  heartbeatMs: number;
  maxFrameBytes?: number;
  onCall(m: MessageOf<'callActor'>, conn: Connection): void;
  onCancel(taskId: string, conn: Connection): void;
}

/** Listens on `host` (any free port); resolves with the address to give callers. It lives as long as the process. */
export async function startDirectServer(o: DirectServerOptions): Promise<{ address: string }> {
  const wss = new WebSocketServer({ host: o.host, port: 0, maxPayload: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  // A bad connection must never take the actor down: errors end that connection only.
  wss.on('error', () => {});
  let seq = 0;
  wss.on('connection', (ws) => {
    const conn = new Connection(ws, { maxFrameBytes: o.maxFrameBytes, heartbeatMs: o.heartbeatMs });
    let greeted = false;
    conn.onMessage((m: Message) => {
      if (!greeted) {
        checkHello(m, o.token, 'actor endpoint');
        if (m.role !== 'driver' && m.role !== 'worker') throw new ProtocolError(`an actor takes direct calls from drivers and workers, not from a ${m.role}`);
        greeted = true;
        conn.send({ type: 'welcome', version: m.version, connId: `direct-${++seq}`, heartbeatMs: o.heartbeatMs });
        return;
      }
      if (m.type === 'callActor') o.onCall(m, conn);
      else if (m.type === 'cancel') o.onCancel(m.taskId, conn);
      else throw new ProtocolError(`'${m.type}' is not accepted on an actor's direct-call connection`);
    });
  });
  const addr = wss.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { address: `${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}` };
}
