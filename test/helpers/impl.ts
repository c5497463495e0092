/*
 * Loads the implementation under test.
 *
 * Development switch: PROTONET_TEST_IMPL=node makes every test load node:net in place of
 * protonet, so the suite itself can be validated against Node (parity tests then compare
 * node:net with node:net and must pass; integrity and liveness tests must pass too).
 * Without the variable (the default) the implementation is protonet, loaded by the package's
 * own name (`require('protonet')`, resolved through package.json "exports" -> dist/index.js).
 *
 * The load is lazy and its failure is re-thrown by every test that needs it, so a broken or
 * missing dist/ makes tests fail with the load error instead of breaking the whole run.
 */
import * as path from 'node:path';

export type NetLike = typeof import('node:net');

/** Absolute path of the repository root (build/ts/test/helpers -> four levels up). */
export const repoRoot: string = findRepoRoot();

export const implName: 'node:net' | 'protonet' =
  process.env.PROTONET_TEST_IMPL === 'node' ? 'node:net' : 'protonet';

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const nodeNet: NetLike = require('node:net') as NetLike;

let cached: NetLike | undefined;
let loadError: unknown;

/** The implementation under test (protonet, or node:net with PROTONET_TEST_IMPL=node). */
export function impl(): NetLike {
  if (cached) return cached;
  if (loadError) throw loadError;
  try {
    cached = implName === 'node:net' ? nodeNet : (require('protonet') as NetLike);
    return cached;
  } catch (err) {
    loadError = err;
    throw err;
  }
}

function findRepoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const pkg = require(path.join(dir, 'package.json')) as { name?: string };
      if (pkg.name === 'protonet') return dir;
    } catch {
      /* keep walking up */
    }
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the protonet repository root above ${__dirname}`);
}
