/*
 * Options that must reach the kernel (read back with getsockopt through the test-only
 * `protonet/internal`), local binding, listen({ fd }), and the address helpers re-exported
 * from node:net. These check protonet itself (not a comparison); they are skipped when the
 * suite runs against node:net (PROTONET_TEST_IMPL=node), which has no getsockopt.
 */
import { expect } from 'chai';
import type * as netTypes from 'node:net';
import { impl, implName, nodeNet } from './helpers/impl';
import { closeServer, freePort, listen, once } from './helpers/util';

type GetSockOpt = (target: unknown, name: string) => number;

function internal(): { getsockopt: GetSockOpt } {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require('protonet/internal') as { getsockopt: GetSockOpt };
}

describe('socket options reach the kernel (protonet)', function () {
  let net: typeof netTypes;
  let server: netTypes.Server;
  let port: number;
  const accepted: netTypes.Socket[] = [];
  const clients: netTypes.Socket[] = [];

  before(async function () {
    if (implName !== 'protonet') this.skip();
    net = impl();
    server = net.createServer((s) => {
      accepted.push(s);
      s.on('error', () => {});
    });
    port = await listen(server, 0, '127.0.0.1');
  });

  afterEach(async () => {
    for (const s of [...clients, ...accepted]) s.destroy();
    clients.length = 0;
    accepted.length = 0;
  });

  after(async () => {
    if (server) await closeServer(server);
  });

  async function connected(opts: Partial<netTypes.TcpNetConnectOpts> = {}): Promise<netTypes.Socket> {
    const c = net.connect({ port, host: '127.0.0.1', ...opts });
    clients.push(c);
    c.on('error', () => {});
    await once(c, 'connect');
    return c;
  }

  it('is not exported from the main entry (only protonet/internal has getsockopt)', () => {
    expect(Object.keys(impl())).to.not.include('getsockopt');
    expect(Object.keys(impl()).sort()).to.include.members(Object.keys(nodeNet).filter((k) => !k.startsWith('_')));
  });

  it('setNoDelay(true|false|()) sets and clears TCP_NODELAY; off by default', async () => {
    const { getsockopt } = internal();
    const c = await connected();
    expect(getsockopt(c, 'TCP_NODELAY')).to.equal(0);
    c.setNoDelay(true);
    expect(getsockopt(c, 'TCP_NODELAY')).to.not.equal(0);
    c.setNoDelay(false);
    expect(getsockopt(c, 'TCP_NODELAY')).to.equal(0);
    c.setNoDelay();
    expect(getsockopt(c, 'TCP_NODELAY')).to.not.equal(0);
  });

  it('setNoDelay() before connecting is applied at connect', async () => {
    const { getsockopt } = internal();
    const c = new net.Socket();
    clients.push(c);
    c.setNoDelay(true);
    c.connect(port, '127.0.0.1');
    await once(c, 'connect');
    expect(getsockopt(c, 'TCP_NODELAY')).to.not.equal(0);
  });

  it('setKeepAlive(true, 5000) sets SO_KEEPALIVE and TCP_KEEPIDLE = 5 s; setKeepAlive(false) clears it', async () => {
    const { getsockopt } = internal();
    const c = await connected();
    expect(getsockopt(c, 'SO_KEEPALIVE')).to.equal(0);
    c.setKeepAlive(true, 5000);
    expect(getsockopt(c, 'SO_KEEPALIVE')).to.not.equal(0);
    expect(getsockopt(c, 'TCP_KEEPIDLE')).to.equal(5);
    c.setKeepAlive(true, 12_500);
    expect(getsockopt(c, 'TCP_KEEPIDLE')).to.equal(12);
    c.setKeepAlive(false);
    expect(getsockopt(c, 'SO_KEEPALIVE')).to.equal(0);
  });

  it("connect({ noDelay, keepAlive, keepAliveInitialDelay }) options are applied on 'connect'", async () => {
    const { getsockopt } = internal();
    const c = await connected({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 7000 });
    expect(getsockopt(c, 'TCP_NODELAY')).to.not.equal(0);
    expect(getsockopt(c, 'SO_KEEPALIVE')).to.not.equal(0);
    expect(getsockopt(c, 'TCP_KEEPIDLE')).to.equal(7);
  });

  it('new Socket({ noDelay, keepAlive, keepAliveInitialDelay }).connect() applies them too', async () => {
    const { getsockopt } = internal();
    const c = new net.Socket({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 4000 } as netTypes.SocketConstructorOpts);
    clients.push(c);
    c.connect(port, '127.0.0.1');
    await once(c, 'connect');
    expect(getsockopt(c, 'TCP_NODELAY')).to.not.equal(0);
    expect(getsockopt(c, 'SO_KEEPALIVE')).to.not.equal(0);
    expect(getsockopt(c, 'TCP_KEEPIDLE')).to.equal(4);
  });

  it('createServer({ noDelay, keepAlive, keepAliveInitialDelay }) applies them to accepted sockets', async () => {
    const { getsockopt } = internal();
    const srv = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 9000 });
    const p = await listen(srv, 0, '127.0.0.1');
    try {
      const c = net.connect(p, '127.0.0.1');
      clients.push(c);
      const [s] = (await once(srv, 'connection')) as [netTypes.Socket];
      accepted.push(s);
      expect(getsockopt(s, 'TCP_NODELAY')).to.not.equal(0);
      expect(getsockopt(s, 'SO_KEEPALIVE')).to.not.equal(0);
      expect(getsockopt(s, 'TCP_KEEPIDLE')).to.equal(9);
      // The client was not asked for either.
      await once(c, 'connect').catch(() => undefined);
      expect(getsockopt(c, 'TCP_NODELAY')).to.equal(0);
    } finally {
      for (const s of [...clients, ...accepted]) s.destroy();
      await closeServer(srv);
    }
  });

  it('listen({ ipv6Only: true }) sets IPV6_V6ONLY on the listening socket; default listen is dual-stack', async () => {
    const { getsockopt } = internal();
    const v6only = net.createServer();
    const dual = net.createServer();
    await new Promise<void>((r) => v6only.listen({ port: 0, host: '::', ipv6Only: true }, r));
    await new Promise<void>((r) => dual.listen({ port: 0, host: '::' }, r));
    try {
      expect(getsockopt(v6only, 'IPV6_V6ONLY')).to.equal(1);
      expect(getsockopt(dual, 'IPV6_V6ONLY')).to.equal(0);
      const p = (v6only.address() as netTypes.AddressInfo).port;
      const c = net.connect(p, '127.0.0.1');
      const [err] = (await once(c, 'error')) as [NodeJS.ErrnoException];
      expect(err.code).to.equal('ECONNREFUSED');
    } finally {
      await closeServer(v6only);
      await closeServer(dual);
    }
  });

  it('connect({ localPort }) binds the client to that local port', async () => {
    const lp = await freePort(nodeNet);
    const [c, [s]] = await Promise.all([
      connected({ localPort: lp, localAddress: '127.0.0.1' }),
      once(server, 'connection') as Promise<[netTypes.Socket]>,
    ]);
    expect(c.localPort).to.equal(lp);
    expect(c.localAddress).to.equal('127.0.0.1');
    expect(s.remotePort).to.equal(lp);
  });

  it('connect({ localPort }) without localAddress binds the wildcard with that port', async () => {
    const lp = await freePort(nodeNet);
    const c = await connected({ localPort: lp });
    expect(c.localPort).to.equal(lp);
  });

  it('listen({ fd }) listens on a caller-bound TCP socket and accepts on it', async () => {
    // A bound, not listening socket made with Node's own tcp_wrap. The fd then belongs to the
    // protonet server (closed with it); the wrap object is kept referenced and never closed,
    // so nothing closes the fd number twice.
    const { TCP, constants } = (process as unknown as { binding(n: string): {
      TCP: new (t: number) => { bind(a: string, p: number): number; fd: number }; constants: { SERVER: number } } })
      .binding('tcp_wrap');
    const raw = new TCP(constants.SERVER);
    expect(raw.bind('127.0.0.1', 0)).to.equal(0);
    keep.push(raw);
    const srv = net.createServer((s) => s.end('via fd'));
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ fd: raw.fd }, resolve);
    });
    try {
      const a = srv.address() as netTypes.AddressInfo;
      expect(a.address).to.equal('127.0.0.1');
      const c = nodeNet.connect(a.port, '127.0.0.1');
      let got = '';
      c.on('data', (d) => (got += d));
      await once(c, 'close');
      expect(got).to.equal('via fd');
    } finally {
      await closeServer(srv);
    }
  });
});

const keep: unknown[] = [];

describe('address helpers are node:net\'s own (isIP, isIPv4, isIPv6, SocketAddress, BlockList)', function () {
  const inputs: unknown[] = [
    '127.0.0.1', '::1', '::', '0.0.0.0', '1.2.3', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '256.1.1.1',
    '::ffff:127.0.0.1', 'fe80::1%eth0', 'fe80::1%', '1::2::3', ':::', '', 'localhost', 'a.b.c.d',
    '0x7f.0.0.1', '127.1', '2001:db8::/32', '[::1]', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 1, null, undefined, {}, ['127.0.0.1'],
    { toString: () => '127.0.0.1' }, '\u0661.1.1.1', '1.1.1.1\n',
  ];

  it('isIP/isIPv4/isIPv6 give node:net\'s answers on tricky inputs', () => {
    const net = impl();
    for (const v of inputs) {
      expect(net.isIP(v as string), `isIP(${String(v)})`).to.equal(nodeNet.isIP(v as string));
      expect(net.isIPv4(v as string), `isIPv4(${String(v)})`).to.equal(nodeNet.isIPv4(v as string));
      expect(net.isIPv6(v as string), `isIPv6(${String(v)})`).to.equal(nodeNet.isIPv6(v as string));
    }
  });

  it('SocketAddress and BlockList are the very classes of node:net', () => {
    const net = impl();
    expect(net.SocketAddress).to.equal(nodeNet.SocketAddress);
    expect(net.BlockList).to.equal(nodeNet.BlockList);
    const bl = new net.BlockList();
    bl.addSubnet('10.0.0.0', 8);
    bl.addAddress('::1', 'ipv6');
    bl.addRange('192.168.0.10', '192.168.0.20');
    expect(bl.check('10.1.2.3')).to.equal(true);
    expect(bl.check('::ffff:10.1.2.3', 'ipv6')).to.equal(true);
    expect(bl.check('192.168.0.15')).to.equal(true);
    expect(bl.check('192.168.0.21')).to.equal(false);
    expect(bl.check('::1', 'ipv6')).to.equal(true);
    const sa = new net.SocketAddress({ address: '::1', family: 'ipv6', port: 443, flowlabel: 5 });
    expect([sa.address, sa.port, sa.family, sa.flowlabel]).to.deep.equal(['::1', 443, 'ipv6', 5]);
    for (const bad of [{ port: 70000 }, { family: 'ipv7' }, { address: 5 }]) {
      let a: unknown;
      let b: unknown;
      try { new net.SocketAddress(bad as netTypes.SocketAddressInitOptions); } catch (e) { a = [(e as Error).name, (e as { code?: string }).code]; }
      try { new nodeNet.SocketAddress(bad as netTypes.SocketAddressInitOptions); } catch (e) { b = [(e as Error).name, (e as { code?: string }).code]; }
      expect(a).to.deep.equal(b);
    }
  });
});
