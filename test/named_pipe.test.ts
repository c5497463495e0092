/*
 * Windows named pipes: on Windows node:net's listen(path)/connect(path) use
 * \\.\pipe\ (or \\?\pipe\) names, and any other path is refused as libuv
 * refuses it. The same scenarios on node:net and protonet, event logs
 * compared. Registered only on Windows (`npm run test:windows` runs it under
 * wine); Unix sockets have their own file (unix.test.ts).
 */
import { expect } from 'chai';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as netTypes from 'node:net';

import { parity } from './helpers/parity';
import { impl, nodeNet } from './helpers/impl';
import { closeServer, once } from './helpers/util';

let counter = 0;
/** A pipe name for one scenario: both runs use the same one, so names inside messages compare equal. */
function pipeName(prefix = '\\\\.\\pipe\\'): string {
  counter += 1;
  return `${prefix}protonet-${process.pid}-${counter}`;
}

if (process.platform === 'win32') {
  describe('Windows named pipes (node:net vs protonet)', () => {
    for (const prefix of ['\\\\.\\pipe\\', '\\\\?\\pipe\\']) {
      const name = pipeName(prefix);
      parity(`listen(${prefix}name): address() is the name; echo; the client's end() ends both sides`, async (net, rec) => {
        const server = net.createServer((s: netTypes.Socket) => {
          rec.track('serverSocket', s);
          rec.note('serverSocket', 'names', s.remoteAddress, s.remotePort, s.address());
          s.pipe(s);
        });
        rec.track('server', server);
        server.listen(name);
        await once(server, 'listening');
        rec.note('server', 'address is the name', server.address() === name);
        const c = net.connect(name);
        rec.track('client', c);
        await once(c, 'connect');
        rec.note('client', 'names', c.remoteAddress, c.remotePort, c.address());
        c.setEncoding('utf8');
        let got = '';
        c.on('data', (d: string) => { got += d; });
        // The echo comes back before the end(): libuv completes a pipe's
        // shutdown only once the peer has read everything, protonet at once
        // (docs/compatibility.md), so 'finish' and the echo may trade places.
        c.write('hello over a named pipe');
        await once(c, 'data');
        c.end();
        await once(c, 'close');
        rec.note('client', 'echoed', got);
        await closeServer(server);
      });
    }

    const missing = pipeName();
    parity('connect to a pipe nobody serves: ENOENT, close(true)', async (net, rec) => {
      const c = net.connect(missing);
      rec.track('client', c);
      await once(c, 'close');
    });

    const notAPipe = path.join(os.tmpdir(), `protonet-${process.pid}.sock`);
    parity('listen on a path that is no pipe name: EACCES from listen', async (net, rec) => {
      const server = net.createServer();
      rec.track('server', server, { noClose: true });  // never listened: no 'close'
      server.listen(notAPipe);
      await once(server, 'error');
      rec.note('server', 'listening', server.listening);
    });

    const many = pipeName();
    parity('30 clients at once (more than the 4 instances kept waiting): every one is served', async (net, rec) => {
      const server = net.createServer((s: netTypes.Socket) => s.end(`n${s.bytesRead}`));
      rec.track('server', server);
      server.listen(many);
      await once(server, 'listening');
      const results = await Promise.all(Array.from({ length: 30 }, () => new Promise<string>((resolve, reject) => {
        const c = net.connect(many);
        let got = '';
        c.setEncoding('utf8');
        c.on('data', (d: string) => { got += d; });
        c.on('error', reject);
        c.on('close', () => resolve(got));
      })));
      rec.note('clients', 'answers', results.filter((r) => r === 'n0').length);
      await closeServer(server);
    });

    const big = pipeName();
    parity('4 MiB echoed by a reader that starts paused: write() says false, drain, every byte in order', async (net, rec) => {
      const payload = crypto.createHash('sha256').update('seed').digest();
      const data = Buffer.alloc(4 << 20);
      for (let i = 0; i < data.length; i += payload.length) payload.copy(data, i);
      const server = net.createServer((s: netTypes.Socket) => {
        // How often pipe() pauses and resumes depends on the read sizes.
        rec.track('serverSocket', s, { dataTotal: true, ignore: ['drain', 'pause', 'resume', 'readable'] });
        s.pause();
        setTimeout(() => { s.pipe(s); }, 100);
      });
      rec.track('server', server);
      server.listen(big);
      await once(server, 'listening');
      const c = net.connect(big);
      rec.track('client', c, { dataTotal: true, ignore: ['drain'] });
      await once(c, 'connect');
      const chunks: Buffer[] = [];
      let received = 0;
      const allBack = new Promise<void>((resolve) => c.on('data', (d: Buffer) => {
        chunks.push(d);
        received += d.length;
        if (received === data.length) resolve();
      }));
      rec.note('client', 'write returns', c.write(data));
      await once(c, 'drain', 10000);
      // end() only once everything is back: after a pipe's shutdown, libuv
      // ends a read that waits 50 ms for data (its eof timer), and node:net
      // under wine then loses the echo still in flight.
      await allBack;
      c.end();
      await once(c, 'close', 15000);
      const got = Buffer.concat(chunks);
      rec.note('client', 'echoed intact', got.length, got.equals(data));
      await closeServer(server);
    }, { timeout: 30000 });

    it('protonet serves node:net clients and the other way round over one pipe name', async () => {
      const protonet = impl();
      for (const [serverNet, clientNet] of [[protonet, nodeNet], [nodeNet, protonet]] as const) {
        const name = pipeName();
        const server = serverNet.createServer((s) => s.pipe(s));
        server.listen(name);
        await once(server, 'listening');
        const c = clientNet.connect(name);
        let got = '';
        c.setEncoding('utf8');
        c.on('data', (d: string) => { got += d; });
        c.end('across implementations');
        await once(c, 'close');
        expect(got).to.equal('across implementations');
        await closeServer(server);
      }
    });
  });
}
