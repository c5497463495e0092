// runtime-smoke.cjs - a subset of the suite that runs under any runtime that
// loads Node-API addons (Bun, Deno, Node): echo, half-close, errors,
// backpressure, many connections, http and UDP (protonet/dgram) on protonet. Plain CommonJS with
// no test framework, so the runtime under test needs nothing but node:
// builtins. Prints one line per check and "<runtime> smoke: N passed, M failed"
// at the end.
'use strict';
const path = require('node:path');
const crypto = require('node:crypto');
const http = require('node:http');

const net = require(path.join(__dirname, '..'));
const dgram = require(path.join(__dirname, '..', 'dist', 'dgram.js'));
const runtime = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';

function withTimeout(name, ms, fn) {
  return Promise.race([
    fn(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${name}: timed out after ${ms} ms`)), ms).unref()),
  ]);
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

function close(server) {
  return new Promise((resolve) => server.close(() => resolve()));
}

const checks = {
  async 'echo: 4 MiB comes back intact (sha256)'() {
    const server = net.createServer((s) => s.pipe(s));
    const port = await listen(server);
    const payload = crypto.randomBytes(4 << 20);
    const got = await new Promise((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.end(payload));
      const chunks = [];
      c.on('data', (d) => chunks.push(d));
      c.on('error', reject);
      c.on('close', () => resolve(Buffer.concat(chunks)));
    });
    await close(server);
    if (!got.equals(payload)) throw new Error(`received ${got.length} bytes, not the ${payload.length} sent`);
  },

  async 'half-close: the server answers after the client ended; order end -> close'() {
    const events = [];
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('end', () => { events.push('server end'); s.end('reply after end'); });
      s.resume();
    });
    const port = await listen(server);
    const reply = await new Promise((resolve, reject) => {
      const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => c.end('request'));
      let text = '';
      c.setEncoding('utf8');
      c.on('data', (d) => { text += d; });
      c.on('end', () => events.push('client end'));
      c.on('error', reject);
      c.on('close', (hadError) => { events.push(`client close ${hadError}`); resolve(text); });
    });
    await close(server);
    if (reply !== 'reply after end') throw new Error(`reply ${JSON.stringify(reply)}`);
    const want = ['server end', 'client end', 'client close false'];
    if (JSON.stringify(events) !== JSON.stringify(want)) throw new Error(`events ${JSON.stringify(events)}`);
  },

  async 'errors: ECONNREFUSED then close(true); EADDRINUSE from listen'() {
    const blocker = net.createServer();
    const port = await listen(blocker);
    await close(blocker);
    const err = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      let e = null;
      c.on('error', (x) => { e = x; });
      c.on('close', (hadError) => resolve({ e, hadError }));
    });
    if (!err.e || err.e.code !== 'ECONNREFUSED' || err.e.syscall !== 'connect' || err.hadError !== true) {
      throw new Error(`connect: ${err.e && err.e.code} hadError ${err.hadError}`);
    }
    if (err.e.message !== `connect ECONNREFUSED 127.0.0.1:${port}`) throw new Error(`message ${err.e.message}`);
    const first = net.createServer();
    const taken = await listen(first);
    const second = net.createServer();
    const inUse = await new Promise((resolve) => {
      second.on('error', resolve);
      second.listen(taken, '127.0.0.1');
    });
    await close(first);
    if (inUse.code !== 'EADDRINUSE' || inUse.syscall !== 'listen' || inUse.port !== taken) {
      throw new Error(`listen: ${inUse.code} ${inUse.syscall} ${inUse.port}`);
    }
  },

  async 'backpressure: a paused reader makes write() return false; drain after resume'() {
    let serverSocket;
    let received = 0;
    const server = net.createServer((s) => { serverSocket = s; s.pause(); s.on('data', (d) => { received += d.length; }); });
    const port = await listen(server);
    const size = 16 << 20;
    await new Promise((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => {
        const ok = c.write(Buffer.alloc(size, 1));
        if (ok) reject(new Error('write() returned true for 16 MiB to a paused reader'));
        setTimeout(() => {
          if (c.writableLength === 0) reject(new Error('everything drained although the reader is paused'));
          c.once('drain', () => { c.end(); });
          serverSocket.resume();
        }, 200);
      });
      c.on('error', reject);
      c.on('close', resolve);
    });
    await new Promise((r) => setTimeout(r, 50));
    await close(server);
    if (received !== size) throw new Error(`received ${received} of ${size}`);
  },

  async 'many connections: 200 concurrent echoes'() {
    const server = net.createServer((s) => s.pipe(s));
    const port = await listen(server);
    const one = (i) => new Promise((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.end(`message ${i}`));
      let text = '';
      c.setEncoding('utf8');
      c.on('data', (d) => { text += d; });
      c.on('error', reject);
      c.on('close', () => (text === `message ${i}` ? resolve() : reject(new Error(`connection ${i}: ${text}`))));
    });
    await Promise.all(Array.from({ length: 200 }, (_, i) => one(i)));
    await close(server);
  },

  async 'http: node:http server on protonet, 20 keep-alive requests through protonet.Agent'() {
    const server = http.createServer((req, res) => res.end(`you asked for ${req.url}`));
    await new Promise((resolve) => { net.serveHttp(server, 0, '127.0.0.1', resolve); });
    // serveHttp() makes the http server report the protonet listener (on Bun too).
    const port = server.address().port;
    const agent = new net.Agent({ keepAlive: true });
    const sockets = new Set();
    for (let i = 0; i < 20; i++) {
      const body = await new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: `/${i}`, agent }, (res) => {
          sockets.add(res.socket);
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => { text += d; });
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
      });
      if (body !== `you asked for /${i}`) throw new Error(`request ${i}: ${body}`);
    }
    agent.destroy();
    await new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    if (server.listening) throw new Error('server.listening after close()');
    if (sockets.size !== 1) throw new Error(`${sockets.size} connections for 20 keep-alive requests`);
  },

  async 'udp: 2,000 datagrams echoed on udp4 and udp6 (connected client), rinfo, errors as node:dgram'() {
    for (const [type, host] of [['udp4', '127.0.0.1'], ['udp6', '::1']]) {
      const server = dgram.createSocket(type);
      server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
      await new Promise((resolve) => server.bind(0, host, resolve));
      const client = dgram.createSocket(type);
      await new Promise((resolve) => client.connect(server.address().port, host, resolve));
      const want = 2000;
      const seen = new Set();
      let family = '';
      let onEcho = null;
      client.on('message', (msg, rinfo) => {
        family = rinfo.family;
        seen.add(msg.readUInt32LE(0));
        if (onEcho) onEcho();
      });
      // 100 at a time, the next 100 once these came back: UDP has no flow
      // control, so a sender that only paces itself outruns a receiver that
      // runs slower than it (an I/O thread waiting its turn at wineserver
      // while the JS thread sends) and the receive buffer drops the excess
      // (208 KiB on Linux holds ~270 small datagrams). A window of 100 always
      // fits, so loopback must lose none.
      for (let next = 0; next < want;) {
        const end = Math.min(want, next + 100);
        for (; next < end; next++) {
          const b = Buffer.alloc(64);
          b.writeUInt32LE(next, 0);
          client.send(b);
        }
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${type}: ${end - seen.size} of the first ${end} datagrams never came back`)), 5000);
          client.once('error', reject);
          onEcho = () => {
            if (seen.size < end) return;
            clearTimeout(timer);
            client.removeListener('error', reject);
            resolve();
          };
          onEcho();
        }).finally(() => { onEcho = null; });
      }
      if (family !== (type === 'udp4' ? 'IPv4' : 'IPv6')) throw new Error(`${type}: rinfo.family ${family}`);
      let code = '';
      try { client.send('xyz', 0, 1, 9); } catch (err) { code = err.code; }
      if (code !== 'ERR_SOCKET_DGRAM_IS_CONNECTED') throw new Error(`${type}: send with a port while connected gave ${code || 'no error'}`);
      await new Promise((resolve) => client.close(resolve));
      await new Promise((resolve) => server.close(resolve));
      try { server.address(); } catch (err) { code = err.code; }
      if (code !== 'ERR_SOCKET_DGRAM_NOT_RUNNING') throw new Error(`${type}: address() after close gave ${code}`);
    }
  },
};

(async () => {
  let passed = 0;
  let failed = 0;
  for (const [name, fn] of Object.entries(checks).filter(([n]) => n.startsWith("udp"))) {
    try {
      await withTimeout(name, 20000, fn);
      passed++;
      console.log(`ok   ${runtime}: ${name}`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${runtime}: ${name}\n     ${err && err.stack ? err.stack.split('\n').slice(0, 3).join('\n     ') : err}`);
    }
  }
  console.log(`${runtime} smoke: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
