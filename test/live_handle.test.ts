/*
 * The addon's functions that touch a handle's fd answer EBADF once the handle is closing:
 * the loop closes the fd while it handles the close (the number may be reused by another
 * socket at once), long before the closed event frees the slot. Called here on the addon
 * directly, below lib/'s own isOpen checks, right after close() was posted.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { once } from 'node:events';

import { repoRoot } from './helpers/impl';

interface Addon {
  close(slot: number, gen: number): number;
  setNoDelay(slot: number, gen: number, on: boolean): number;
  setKeepAlive(slot: number, gen: number, on: boolean, delay: number): number;
  sockname(slot: number, gen: number): unknown;
  peername(slot: number, gen: number): unknown;
  getTypeOfService(slot: number, gen: number): number;
  setTypeOfService(slot: number, gen: number, tos: number): number;
  getsockopt(slot: number, gen: number, name: string): number;
  fd(slot: number, gen: number): number;
  contract: { errors: Record<string, number> };
}

function addon(): Addon {
  const override = process.env.PROTONET_ADDON;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (override) return require(path.resolve(override)) as Addon;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node-gyp-build') as (dir: string) => Addon)(repoRoot);
}

describe('live handle accessor (native)', () => {
  it('every fd call answers EBADF for a handle whose close was posted', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const net = require('protonet') as typeof import('node:net');
    const server = net.createServer((s) => s.destroy());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const handle = (socket as unknown as { _handle: { slot: number; gen: number } })._handle;
    const { slot, gen } = handle;
    const a = addon();
    const EBADF = a.contract.errors.EBADF;
    try {
      expect(a.setNoDelay(slot, gen, true)).to.equal(0);
      expect(a.close(slot, gen)).to.equal(0);
      // Same tick: no loop has handled the close yet in the driven mode; in either mode
      // the answer must not depend on it.
      expect(a.setNoDelay(slot, gen, true)).to.equal(EBADF);
      expect(a.setKeepAlive(slot, gen, true, 1)).to.equal(EBADF);
      expect(a.sockname(slot, gen)).to.equal(EBADF);
      expect(a.peername(slot, gen)).to.equal(EBADF);
      expect(a.getTypeOfService(slot, gen)).to.equal(EBADF);
      expect(a.setTypeOfService(slot, gen, 0)).to.equal(EBADF);
      expect(a.getsockopt(slot, gen, 'TCP_NODELAY')).to.equal(EBADF);
      expect(a.fd(slot, gen)).to.equal(-1);
    } finally {
      socket.destroy();
      await once(socket, 'close');
      server.close();
      await once(server, 'close');
    }
  });
});
