/*
 * Unix domain sockets: the same scenarios on node:net and protonet (event
 * logs compared by the parity helper), with socket paths under the OS temp
 * directory, one per run, removed afterwards.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as netTypes from 'node:net';

import { parity } from './helpers/parity';
import { closeServer, once } from './helpers/util';

let counter = 0;
/** A socket path for one scenario: both runs (node:net, then protonet) use the
 * same path, so paths inside messages compare equal; each run removes it. */
function sockPath(): string {
  counter += 1;
  return path.join(os.tmpdir(), `protonet-${process.pid}-${counter}.sock`);
}

function cleanup(p: string): void {
  try { fs.unlinkSync(p); } catch { /* gone */ }
}

describe('Unix domain sockets (node:net vs protonet)', () => {
  const p1 = sockPath();
  parity('listen(path): address() is the path; echo over the socket; the file goes away on close', async (net, rec) => {
    try {
      const server = net.createServer((s: netTypes.Socket) => {
        rec.track('serverSocket', s);
        rec.note('serverSocket', 'names', s.remoteAddress, s.remotePort, s.remoteFamily, s.address(), s.localAddress);
        s.pipe(s);
      });
      rec.track('server', server);
      server.listen(p1);
      await once(server, 'listening');
      rec.note('server', 'address is the path', server.address() === p1, fs.existsSync(p1));
      const c = net.connect(p1);
      rec.track('client', c);
      await once(c, 'connect');
      rec.note('client', 'names', c.remoteAddress, c.remotePort, c.address(), c.localPort);
      c.setEncoding('utf8');
      let got = '';
      c.on('data', (d: string) => { got += d; });
      c.end('hello over a unix socket');
      await once(c, 'close');
      rec.note('client', 'echoed', got);
      await closeServer(server);
      rec.note('server', 'file after close', fs.existsSync(p1));
    } finally {
      cleanup(p1);
    }
  });

  const p2 = sockPath();
  parity('connect to a missing path: ENOENT error fields, no connectionAttempt, close(true)', async (net, rec) => {
    const c = net.connect({ path: p2 });
    rec.track('client', c);
    c.on('error', (err: NodeJS.ErrnoException & { address?: string }) => {
      rec.note('client', 'error address is the path', err.address === p2, err.message === `connect ENOENT ${p2}`);
    });
    await once(c, 'close');
  });

  parity('connect to an abstract name nobody listens on: ECONNREFUSED, then close(true)', async (net, rec) => {
    const c = net.connect(`\0protonet-nobody-${process.pid}`);
    rec.track('client', c);
    c.on('error', (err: NodeJS.ErrnoException) => rec.note('client', 'code', err.code, err.syscall));
    await once(c, 'close');
  });

  const p4 = sockPath();
  parity('listen on a live path: EADDRINUSE with port -1; the first server keeps working', async (net, rec) => {
    try {
      const a = net.createServer();
      rec.track('first', a);
      a.listen(p4);
      await once(a, 'listening');
      const b = net.createServer();
      rec.track('second', b);
      b.on('error', (err: NodeJS.ErrnoException & { port?: number; address?: string }) => {
        rec.note('second', 'error', err.code, err.syscall, err.port, err.address === p4,
          err.message === `listen EADDRINUSE: address already in use ${p4}`);
      });
      b.listen(p4);
      await once(b, 'error');
      rec.note('second', 'listening after error', b.listening, b.address() === p4);
      const bClosed = once(b, 'close');
      b.close();
      await bClosed;
      const c = net.connect(p4);
      rec.track('client', c);
      await once(c, 'connect');
      c.destroy();
      await once(c, 'close');
      await closeServer(a);
    } finally {
      cleanup(p4);
    }
  });

  const p5 = sockPath();
  parity('readableAll/writableAll add read and write bits for everyone to the socket file', async (net, rec) => {
    const old = process.umask(0o077);
    try {
      const s = net.createServer();
      rec.track('server', s);
      s.listen({ path: p5, readableAll: true, writableAll: true });
      await once(s, 'listening');
      rec.note('server', 'mode', (fs.statSync(p5).mode & 0o777).toString(8));
      await closeServer(s);
    } finally {
      process.umask(old);
      cleanup(p5);
    }
  });

  const p6 = sockPath();
  const abstractName = `\0protonet-abstract-${process.pid}`;
  parity('a Linux abstract name (leading NUL) listens and connects without a file', async (net, rec) => {
    const name = abstractName;
    const s = net.createServer((sock: netTypes.Socket) => sock.end('abstract'));
    rec.track('server', s);
    s.listen(name);
    await once(s, 'listening');
    rec.note('server', 'address is the name', s.address() === name);
    const c = net.connect(name);
    rec.track('client', c);
    c.setEncoding('utf8');
    let got = '';
    c.on('data', (d: string) => { got += d; });
    await once(c, 'close');
    rec.note('client', 'got', got);
    await closeServer(s);
  });

  it('protonet: 4 MiB through a Unix socket arrives intact', async function () {
    this.timeout(20000);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pn = require('protonet') as typeof import('node:net');
    try {
      const payload = Buffer.alloc(4 << 20);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 11)) & 0xff;
      const server = pn.createServer((s) => s.pipe(s));
      server.listen(p6);
      await once(server, 'listening');
      const c = pn.connect(p6);
      const chunks: Buffer[] = [];
      c.on('data', (d: Buffer) => chunks.push(d));
      c.end(payload);
      await once(c, 'close', 15000);
      expect(Buffer.concat(chunks).equals(payload)).to.equal(true);
      await closeServer(server);
    } finally {
      cleanup(p6);
    }
  });
});
