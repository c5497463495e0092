// runtime.ts - which JavaScript runtime protonet runs in: the one place that
// tells. Bun and Deno also define process.versions.node (for compatibility),
// so a runtime is known by its own version entry or global, never by that.
const g = globalThis as { Bun?: unknown; Deno?: unknown };

export type Runtime = 'node' | 'bun' | 'deno';

export const RUNTIME: Runtime =
  process.versions.bun !== undefined || g.Bun !== undefined ? 'bun'
    : process.versions.deno !== undefined || g.Deno !== undefined ? 'deno'
      : 'node';

/** Bun or Deno: their net, stream and libuv stand-ins match no single Node release. */
export const FOREIGN_RUNTIME = RUNTIME !== 'node';
