/*
 * The native/JS contract: the record layout and every record type JS knows (lib/binding.ts
 * Ev, RECORD_INTS) must be what the addon sends (native/core/loop.h, native/napi/bridge.h),
 * and the addon must send no record type JS does not know.
 */
import { expect } from 'chai';

interface Side { recordInts: number; records: Record<string, number>; udpHeaderFixed: number; writeCopied: number }

describe('native/JS contract', () => {
  it('record layout and record types are the same on both sides', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { contract } = require('protonet/internal') as { contract(): { js: Side; native: Side } };
    const { js, native } = contract();
    expect(native.recordInts).to.equal(js.recordInts);
    expect(native.records).to.deep.equal(js.records);
    expect(native.udpHeaderFixed).to.equal(js.udpHeaderFixed);
    expect(native.writeCopied).to.equal(js.writeCopied);
    // Not 0 (written now) or 1 (queued), writev()'s other answers.
    expect(js.writeCopied).to.be.a('number').and.not.oneOf([0, 1]);
  });
});
