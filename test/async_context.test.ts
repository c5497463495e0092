/*
 * Async context in socket callbacks. Node runs a TCP handle's callbacks in the async context
 * the handle was made in (TCPWrap is an AsyncWrap): a client socket's in the context that
 * called connect(); the server's 'connection' in the context of listen(); an accepted
 * socket's own events in none (Node makes its handle outside any JS callback).
 * AsyncLocalStorage (request ids, tracing) depends on it. Each scenario runs on node:net and on the implementation under
 * test, and the stores seen by each callback must be the same.
 */
import { expect } from 'chai';
import { AsyncLocalStorage } from 'node:async_hooks';
import type * as netTypes from 'node:net';
import { impl, implName, nodeNet } from './helpers/impl';

type Log = string[];

async function scenario(net: typeof netTypes): Promise<Log> {
  const als = new AsyncLocalStorage<string>();
  const log: Log = [];
  const seen = (what: string) => log.push(`${what}: ${als.getStore() ?? '-'}`);
  let server!: netTypes.Server;
  await new Promise<void>((resolve) => {
    als.run('server', () => {
      server = net.createServer((sock) => {
        seen('server connection');
        sock.on('data', (d) => {
          seen(`server data ${d.toString()}`);
          sock.end(`re:${d.toString()}`);
        });
        sock.on('end', () => seen('server end'));
        sock.on('close', () => seen('server close'));
      });
      server.listen(0, '127.0.0.1', () => {
        seen('listening');
        resolve();
      });
    });
  });
  const port = (server.address() as netTypes.AddressInfo).port;
  // Two clients made in two contexts, in flight at once: each keeps its own.
  const client = (id: string) =>
    new Promise<void>((resolve) => {
      als.run(id, () => {
        const c = net.connect(port, '127.0.0.1', () => {
          seen(`${id} connect`);
          c.write(id, () => seen(`${id} write cb`));
        });
        c.on('data', (d) => seen(`${id} data ${d.toString()}`));
        c.on('end', () => seen(`${id} end`));
        c.on('close', () => {
          seen(`${id} close`);
          resolve();
        });
      });
    });
  await als.run('outside', () => Promise.all([client('a'), client('b')]));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  // Both accepted sockets' 'close' too (their order against the server's close
  // callback is not what this test is about).
  for (let i = 0; i < 100 && log.filter((l) => l.startsWith('server close')).length < 2; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  // Interleaving across sockets is not promised by either: compare each line's context only.
  return log.sort();
}

// Write callbacks run in the context of their write() call (Node's WriteWrap is made there),
// whether the write completes at once or is queued behind a full socket buffer.
async function writes(net: typeof netTypes): Promise<Log> {
  const als = new AsyncLocalStorage<string>();
  const log: Log = [];
  const server = net.createServer((s) => {
    s.resume();
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as netTypes.AddressInfo).port;
  await new Promise<void>((resolve) => {
    let c!: netTypes.Socket;
    als.run('connect', () => {
      c = net.connect(port, '127.0.0.1');
    });
    c.on('connect', () => {
      als.run('small', () => c.write('x', () => log.push(`small cb: ${als.getStore()}`)));
      als.run('big', () => c.write(Buffer.alloc(8 << 20), () => {
        log.push(`big cb: ${als.getStore()}`);
        c.end();
      }));
    });
    c.on('close', () => {
      log.push(`close: ${als.getStore()}`);
      resolve();
    });
  });
  await new Promise<void>((r) => server.close(() => r()));
  return log;
}

describe(`async context in socket callbacks (${implName} vs node:net)`, function () {
  this.timeout(10000);

  it("client callbacks run in connect()'s context, 'connection' in listen()'s, an accepted socket's in none", async () => {
    const node = await scenario(nodeNet);
    const ours = await scenario(impl());
    // Sanity: node:net really propagates (so this test can fail).
    expect(node).to.include('a data re:a: a');
    expect(node).to.include('server connection: server');
    expect(node).to.include('server data b: -');
    expect(ours).to.deep.equal(node);
  });

  it('a write callback runs in the context of its write() call, done at once or queued', async () => {
    const node = await writes(nodeNet);
    const ours = await writes(impl());
    expect(node).to.deep.equal(['small cb: small', 'big cb: big', 'close: connect']);
    expect(ours).to.deep.equal(node);
  });
});
