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
import { CoreClient } from '../../client/runtime/core.js';

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

t.test('backpressure: a submitter that ignores flow messages is not read from until the queue drains', async (t) => {
  const token = 'bp';
  const head = new Head({ token, maxPendingTasks: 100 });
  const port = await head.start();
  t.teardown(() => head.stop());
  const { conn } = await dial(`127.0.0.1:${port}`, { role: 'driver', token, pid: process.pid, hostname: 'test' });
  t.teardown(() => conn.close());
  const opts = { resources: { CPU: 1 }, maxRetries: 0, retryExceptions: false, strategy: 'DEFAULT' as const };
  const ids: string[] = [];
  // No node exists: everything queues. 30 frames of 100 submits each.
  for (let f = 0; f < 30; f++) {
    for (let i = 0; i < 100; i++) {
      const taskId = `t${f}-${i}`;
      ids.push(taskId);
      conn.send({ type: 'submit', taskId, fn: { module: 'file:///x.js', name: 'f' }, args: new Uint8Array([0x90]), opts });
    }
    conn.flush();
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 300));
  const pending = head.status().tasks.pending;
  t.ok(pending >= 100 && pending < 1500, `the queue stopped growing at ${pending} of 3000 submitted`);
  // Drain from another connection (the paused one is not read): as the queue shrinks, the head reads again.
  const other = await dial(`127.0.0.1:${port}`, { role: 'driver', token, pid: process.pid, hostname: 'test' });
  t.teardown(() => other.conn.close());
  let status = head.status();
  let peak = 0;
  for (let i = 0; i < 200 && status.tasks.finished < 3000; i++) {
    for (const id of ids) other.conn.send({ type: 'cancel', taskId: id, force: false });
    other.conn.flush();
    await new Promise((r) => setTimeout(r, 30));
    status = head.status();
    peak = Math.max(peak, status.tasks.pending);
  }
  // Reading resumes a socket chunk at a time, so the bound is the limit plus what one read brings in.
  t.ok(peak < 2000, `the queue stayed bounded while it drained (peak ${peak} of 3000)`);
  t.equal(status.tasks.finished, 3000, 'every submit was eventually read (and cancelled)');
  t.equal(status.tasks.pending, 0);
});

t.test('backpressure holds submissions in the driver, not its cancels: a cancel is served while the queue is full', async (t) => {
  const token = 'flow';
  const head = new Head({ token, maxPendingTasks: 50 });
  const port = await head.start();
  t.teardown(() => head.stop());
  const core = await CoreClient.connect({ address: `127.0.0.1:${port}`, token, role: 'driver', namespace: 'default' });
  t.teardown(() => core.close());
  const opts = { resources: { CPU: 1 }, maxRetries: 0, retryExceptions: false, strategy: 'DEFAULT' as const };
  // No node exists: everything the head accepts stays queued.
  const refs = [];
  for (let batch = 0; batch < 40; batch++) {
    for (let i = 0; i < 10; i++) refs.push(core.submitTask({ module: 'file:///x.js', name: 'f' }, [], opts));
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 200));
  const queued = head.status().tasks.pending;
  t.ok(queued > 50 && queued < 400, `the head queued ${queued} of 400; the driver holds the rest`);
  const first = refs[0]!;
  const last = refs[399]!;
  core.cancel(first, false); // queued at the head
  core.cancel(last, false); // still held by the driver
  const started = Date.now();
  const outcomes = await Promise.all([first, last].map((r) => core.get([r], 5000).then(() => 'value', (e: Error) => e.constructor.name)));
  t.same(outcomes, ['TaskCancelledError', 'TaskCancelledError']);
  t.ok(Date.now() - started < 2000, 'both cancels took effect at once');
  // Cancelling what the head holds lets the queue drain; the driver then sends what it held, in order.
  for (const r of refs.slice(1, 100)) core.cancel(r, false);
  await new Promise((r) => setTimeout(r, 300));
  const pending = head.status().tasks.pending;
  t.ok(pending > 0 && pending < 400, `held submissions were sent once the head let go (${pending} queued)`);
  t.equal(head.status().tasks.pending + head.status().tasks.finished <= 400, true);
  // After the flush the head still reads this driver: a cancel of a flushed task is served at once.
  const flushed = refs[300]!;
  core.cancel(flushed, false);
  const t0 = Date.now();
  t.equal(await core.get([flushed], 5000).then(() => 'value', (e: Error) => e.constructor.name), 'TaskCancelledError');
  t.ok(Date.now() - t0 < 2000, 'served at once');
});
