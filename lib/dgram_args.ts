// dgram_args.ts - node:dgram's reading of what send() is given: the data
// (one Buffer/TypedArray/DataView/string, or an array of them, optionally cut
// by offset and length), with node:dgram's errors and in its order of checks.
import { types } from 'node:util';

import { dgramErrors, invalidArgType } from './errors';

const kDataTypes = ['Buffer', 'TypedArray', 'DataView', 'string'];

/** send(buffer, offset, length, ...): a view of bytes offset..offset+length of a string or view. */
export function sliceBuffer(buffer: unknown, offset: unknown, length: unknown): Buffer {
  let view: ArrayBufferView;
  if (typeof buffer === 'string') view = Buffer.from(buffer);
  else if (types.isArrayBufferView(buffer)) view = buffer;
  else throw invalidArgType('buffer', kDataTypes, buffer);
  // node:dgram coerces both with `>>> 0`: -1 is 4294967295, 'x' is 0.
  const start = (offset as number) >>> 0;
  const len = (length as number) >>> 0;
  if (start > view.byteLength) throw dgramErrors.outOfBounds('offset');
  if (start + len > view.byteLength) throw dgramErrors.outOfBounds('length');
  return Buffer.from(view.buffer, view.byteOffset + start, len);
}

/**
 * The chunks one datagram is made of, or throws node:dgram's TypeError. The
 * array form copies nothing: each element becomes a Buffer over its memory.
 */
export function toChunkList(buffer: unknown): Buffer[] {
  if (Array.isArray(buffer)) {
    const list = new Array<Buffer>(buffer.length);
    for (let i = 0; i < buffer.length; i++) {
      const item: unknown = buffer[i];
      if (typeof item === 'string') list[i] = Buffer.from(item);
      else if (Buffer.isBuffer(item)) list[i] = item;
      else if (types.isArrayBufferView(item)) list[i] = Buffer.from(item.buffer, item.byteOffset, item.byteLength);
      else throw invalidArgType('buffer list arguments', kDataTypes, buffer);
    }
    return list;
  }
  if (typeof buffer === 'string') return [Buffer.from(buffer)];
  if (!types.isArrayBufferView(buffer)) throw invalidArgType('buffer', kDataTypes, buffer);
  return [Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength)];
}

/**
 * The port node:dgram's bind passes to libuv: its handle converts with
 * ToUint32 and the socket address keeps the low 16 bits (bind(70000) binds
 * port 4464, bind('abc') an ephemeral port). `+` throws for a BigInt or
 * Symbol as that conversion does.
 */
export function bindPortNumber(port: unknown): number {
  return ((+(port as number) || 0) >>> 0) & 0xffff;
}
