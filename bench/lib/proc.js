'use strict';
// proc.js - child processes with a hard timeout, killed by PID, never by name.
//
// Children speak one JSON object per stdout line ({type: ..., ...}); the
// driver waits for a given type and sends commands as stdin lines.
const { spawn } = require('node:child_process');

const live = new Set();

function killAll() {
  for (const child of live) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { killAll(); process.exit(130); });
}

function start(cmd, args, { timeoutMs, label = cmd, env } = {}) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env || process.env });
  live.add(child);
  const messages = [];
  const waiters = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  let exited = null;
  let timedOut = false;

  const timer = setTimeout(() => {
    timedOut = true;
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
  }, timeoutMs);

  const failure = () => {
    const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited (${exited.code ?? exited.signal})`;
    const tail = stderr.trim().split('\n').slice(-6).join('\n');
    return new Error(`${label} ${why}${tail ? `:\n${tail}` : ''}`);
  };
  const settle = () => {
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i];
      const idx = messages.findIndex((m) => m.type === w.type);
      if (idx >= 0) {
        waiters.splice(i--, 1);
        w.resolve(messages.splice(idx, 1)[0]);
      } else if (exited) {
        waiters.splice(i--, 1);
        w.reject(failure());
      }
    }
  };

  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    stdout += text;
    pending += text;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) {
        try { messages.push(JSON.parse(line)); } catch { /* not ours */ }
      }
    }
    settle();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => { stderr = (stderr + text).slice(-20000); });
  child.stdin.on('error', () => {});

  const done = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      exited = { code, signal };
      settle();
      resolve(exited);
    });
  });

  return {
    pid: child.pid,
    done,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get timedOut() { return timedOut; },
    /** Resolves with the next message of this type; rejects if the child ends first. */
    wait(type) {
      return new Promise((resolve, reject) => { waiters.push({ type, resolve, reject }); settle(); });
    },
    send(line) { if (!exited) child.stdin.write(`${line}\n`); },
    /** Resolves when the child exits (or failed), after its whole output is in. */
    async finish() {
      const ex = await done;
      if (timedOut) throw failure();
      return ex;
    },
    /** Closes stdin (workers exit on it); SIGKILL by PID after graceMs. */
    async stop(graceMs = 3000) {
      if (exited) return exited;
      child.stdin.end();
      const t = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
      const ex = await done;
      clearTimeout(t);
      return ex;
    },
  };
}

module.exports = { start, killAll };
