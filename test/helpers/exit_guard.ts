/*
 * Turns a test that leaves something open into a failure instead of a hang.
 *
 * mocha runs with `exit: false` (.mocharc.json), so that the process ends only when everything
 * the tests opened is closed, as a user's process would: a server, socket or timer left open by a
 * test keeps it alive. Without this guard that means `npm test` never returns and CI waits out its
 * whole time limit. After the last test, an unref'd timer (it keeps nothing alive itself) gives
 * the process PROTONET_TEST_EXIT_GRACE_MS (default 30 s) to end; if it is still alive then, it
 * names what is still open and exits with status 1.
 */
const GRACE_MS = Number(process.env.PROTONET_TEST_EXIT_GRACE_MS ?? 30000);

/** What the runtime says keeps the process alive ('TCPServerWrap', 'Timeout', ...), counted by kind. */
function openResources(): string {
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.() ?? [];
  const counts = new Map<string, number>();
  for (const kind of info) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${kind} x${n}`).join(', ') || 'none the runtime can name';
}

export function mochaGlobalTeardown(): void {
  const timer = setTimeout(() => {
    process.stderr.write(`\nmocha: the process was still alive ${GRACE_MS} ms after the last test: `
      + `a test left something open (${openResources()})\n`);
    // mocha's own 'exit' listener sets the exit code to the number of failed tests;
    // this one, added after it, runs after it.
    process.on('exit', () => { process.exitCode = 1; });
    process.exit(1);
  }, GRACE_MS);
  timer.unref();
}
