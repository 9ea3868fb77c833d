import t from 'tap';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import {
  AuthenticationError,
  ProtocolError,
  TaskError,
  VersionMismatchError,
  decodeFrame,
  dial,
  encodeFrames,
  fromWireError,
  validateMessage,
  type Connection,
  type Message,
} from '../../protocol/index.js';
import { Head } from '../../daemon/head/head.js';

t.test('validators accept well-formed messages and name the bad field otherwise', async (t) => {
  const ok: Message = { type: 'cancel', taskId: 'x', force: false };
  t.same(validateMessage(ok), ok);
  t.throws(() => validateMessage({ type: 'cancel', taskId: 3, force: false }), { name: 'ProtocolError', message: /'cancel'.*'taskId'/ });
  t.throws(() => validateMessage({ type: 'nope' }), /unknown type "nope"/);
  t.throws(() => validateMessage([1, 2]), /not an object/);
  t.throws(
    () => validateMessage({ type: 'submit', taskId: 't', fn: { module: 'm', name: 'f' }, args: new Uint8Array(), opts: { resources: { CPU: -1 }, maxRetries: 0, retryExceptions: false, strategy: 'DEFAULT' } }),
    /opts\.resources\.CPU/,
  );
  t.throws(() => validateMessage({ type: 'taskDone', taskId: 't', result: { ok: false } }), /result\.error/);
});

t.test('frames batch messages and split when too large', async (t) => {
  const msgs: Message[] = Array.from({ length: 10 }, (_, i) => ({ type: 'cancel', taskId: `t${i}`, force: true }));
  const [frame] = encodeFrames(msgs, 1 << 20);
  t.same(decodeFrame(frame!), msgs);
  const big: Message[] = Array.from({ length: 4 }, (_, i) => ({ type: 'free', peer: 'p', ids: [`${i}`.repeat(3000)] }));
  const frames = encodeFrames(big, 8000);
  t.ok(frames.length > 1);
  t.same(frames.flatMap((f) => decodeFrame(f)), big);
  t.throws(() => encodeFrames([big[0]!], 100), /exceeds the maximum frame size/);
  t.throws(() => decodeFrame(new Uint8Array([0xc1])), ProtocolError);
});

t.test('errors keep their class across the wire', async (t) => {
  const e = TaskError.fromUserError('task f', Object.assign(new SyntaxError('bad'), { line: 3 }));
  const back = fromWireError(e.toWire());
  t.ok(back instanceof TaskError);
  t.equal((back as TaskError).remoteName, 'SyntaxError');
  t.equal((back.cause as Error & { line: number }).line, 3);
  t.ok(fromWireError(new AuthenticationError('x').toWire()) instanceof AuthenticationError);
});

t.test('the head refuses bad peers and keeps serving the others', async (t) => {
  const token = 'secret-token';
  const head = new Head({ token, maxFrameBytes: 64 * 1024 });
  const port = await head.start();
  t.teardown(() => head.stop());
  const address = `127.0.0.1:${port}`;
  const hello = { role: 'driver' as const, token, pid: process.pid, hostname: 'test' };
  const good = await dial(address, hello);
  t.teardown(() => good.conn.close());
  const request = (conn: Connection, reqId: number, m: Partial<Extract<Message, { type: 'request' }>>) =>
    new Promise<unknown>((resolve) => {
      conn.onMessage((r) => {
        if (r.type === 'reply' && r.reqId === reqId) resolve(r.value);
      });
      conn.send({ type: 'request', reqId, op: 'kvPut', key: 'k', value: 'v', ...m });
    });
  t.equal(await request(good.conn, 1, {}), true);

  await t.rejects(dial(address, { ...hello, token: 'wrong' }), AuthenticationError, 'wrong token');
  await t.rejects(dial(address, { ...hello, version: 999 }), VersionMismatchError, 'wrong version');

  // Raw sockets: garbage, a text frame, a message before hello, an unknown type, an oversized frame.
  const raw = async (send: (ws: WebSocket) => void): Promise<{ code: number; error?: string }> => {
    const ws = new WebSocket(`ws://${address}`);
    await new Promise((r) => ws.once('open', r));
    let error: string | undefined;
    ws.on('message', (d) => {
      try {
        const ms = new Packr({ useRecords: false }).unpack(d as Buffer) as { type: string; error?: { message: string } }[];
        for (const m of ms) if (m.type === 'error') error = m.error?.message;
      } catch {
        /* ignore */
      }
    });
    send(ws);
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    return { code, error };
  };
  const packr = new Packr({ useRecords: false });
  const garbage = await raw((ws) => ws.send(Buffer.from([0xc1, 0xff, 0x00])));
  t.match(garbage.error, /malformed frame/);
  const text = await raw((ws) => ws.send('hello'));
  t.match(text.error, /text frames/);
  const early = await raw((ws) => ws.send(packr.pack([{ type: 'request', reqId: 1, op: 'status' }])));
  t.match(early.error, /expected 'hello' first/);
  const unknown = await raw((ws) => ws.send(packr.pack([{ type: 'hello', version: 1, role: 'driver', token, pid: 1, hostname: 'x' }, { type: 'launchMissiles' }])));
  t.match(unknown.error, /unknown type/);
  const outOfRole = await raw((ws) => ws.send(packr.pack([{ type: 'hello', version: 1, role: 'driver', token, pid: 1, hostname: 'x' }, { type: 'taskDone', taskId: 'x', result: { ok: true } }])));
  t.match(outOfRole.error, /not allowed from a driver/);
  const oversized = await raw((ws) => ws.send(Buffer.alloc(128 * 1024)));
  t.equal(oversized.code, 1009, 'oversized frame closes with 1009 (message too big)');

  t.equal(await request(good.conn, 2, { key: 'k2' }), true, 'the good connection still works');
  const again = await dial(address, hello);
  t.equal(await request(again.conn, 3, { op: 'kvGet', key: 'k2', value: undefined }), 'v', 'and new ones are accepted');
  again.conn.close();
});
