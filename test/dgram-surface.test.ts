/*
 * protonet/dgram's surface is node:dgram's on whichever Node runs the suite: the same export
 * names of the same kinds, Socket.prototype with the same member names (methods, the deprecated
 * underscore accessors, Symbol.asyncDispose) and function lengths, and the ESM entry exports the
 * same names as the CommonJS one.
 */
import { expect } from 'chai';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';

import { dgramImpl, nodeDgram } from './helpers/dgram';
import { repoRoot } from './helpers/impl';

function members(proto: object): Array<[string, string]> {
  const keys: Array<string | symbol> = [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertySymbols(proto)
    .filter((s) => Object.getOwnPropertyNames(Symbol).some((k) => (Symbol as unknown as Record<string, unknown>)[k] === s))];
  return keys.map((k): [string, string] => {
    const d = Object.getOwnPropertyDescriptor(proto, k)!;
    const kind = d.get ? `accessor${d.set ? '+set' : ''}` : typeof d.value === 'function' ? `function/${(d.value as () => void).length}` : typeof d.value;
    return [String(k), kind];
  }).sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

describe("protonet/dgram's surface is node:dgram's", () => {
  it('exports the same names with the same kinds', () => {
    const kinds = (m: object): Array<[string, string]> => Object.keys(m).sort().map((k) => [k, typeof (m as Record<string, unknown>)[k]]);
    expect(kinds(dgramImpl())).to.deep.equal(kinds(nodeDgram));
  });

  it('Socket.prototype has the same members, kinds and lengths', () => {
    const mine = members(dgramImpl().Socket.prototype).filter(([k]) => k !== 'constructor');
    const theirs = members(nodeDgram.Socket.prototype).filter(([k]) => k !== 'constructor');
    expect(mine).to.deep.equal(theirs);
  });

  it('createSocket, Socket and a socket look like node:dgram\'s', () => {
    const d = dgramImpl();
    expect(d.createSocket.length).to.equal(nodeDgram.createSocket.length);
    const s = d.createSocket('udp4');
    try {
      expect(s).to.be.instanceOf(d.Socket);
      expect(s).to.be.instanceOf((require('node:events') as typeof import('node:events')).EventEmitter);
      expect((s as unknown as { type: string }).type).to.equal('udp4');
      expect(Object.keys(s).filter((k) => !k.startsWith('_'))).to.deep.equal(['type']);
    } finally {
      s.close();
    }
  });

  it("errors inspect as node:dgram's (SystemError shows its accessors' values)", () => {
    const { inspect } = require('node:util') as typeof import('node:util');
    const shown = (d: typeof nodeDgram): string => {
      const s = d.createSocket('udp4');
      try {
        s.getSendBufferSize();
        return 'no error';
      } catch (e) {
        return inspect(e).split('\n').filter((l) => !/^\s+at /.test(l)).join('\n');
      } finally {
        s.close();
      }
    };
    expect(shown(dgramImpl())).to.equal(shown(nodeDgram));
  });

  it("diagnostics_channel 'udp.socket' gets { socket } for each new socket, as from node:dgram", () => {
    const dc = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
    const seen: unknown[] = [];
    const onMessage = (m: unknown): void => { seen.push(m); };
    dc.subscribe('udp.socket', onMessage);
    try {
      const a = nodeDgram.createSocket('udp4');
      const b = dgramImpl().createSocket('udp6');
      expect(seen).to.have.length(2);
      expect(seen[0]).to.deep.equal({ socket: a });
      expect((seen[1] as { socket: unknown }).socket).to.equal(b);
      expect(Object.keys(seen[1] as object)).to.deep.equal(['socket']);
      a.close();
      b.close();
    } finally {
      dc.unsubscribe('udp.socket', onMessage);
    }
  });

  it('the ESM entry (protonet/dgram as import) has the CommonJS names', async () => {
    const url = pathToFileURL(path.join(repoRoot, 'dist', 'dgram.mjs')).href;
    // eslint-disable-next-line no-new-func
    const esm = (await (new Function('u', 'return import(u)'))(url)) as Record<string, unknown>;
    const names = Object.keys(esm).filter((k) => k !== 'default').sort();
    expect(names).to.deep.equal(Object.keys(nodeDgram).sort());
    expect(esm.createSocket).to.equal(dgramImpl().createSocket);
  });
});
