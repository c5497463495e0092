/*
 * A read-only npm registry on loopback that serves a fixed set of packed
 * tarballs: package documents at /<name> and tarballs at /<name>/-/<file>.
 * Installers (bun, deno, npm) pointed at it install offline exactly as from
 * the public registry, and a package that is not here fails the install
 * instead of being fetched from elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

interface Entry { manifest: Record<string, unknown>; file: string; data: Buffer }

export class LocalRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #server = http.createServer((req, res) => this.#answer(req, res));
  /** Every path asked for, in order (what an installer fetched). */
  readonly requests: string[] = [];
  url = '';

  /** Serves the package in `tarball` (an `npm pack` output) under its own name and version. */
  add(tarball: string): void {
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
    this.#entries.set(String(manifest.name), { manifest, file: path.basename(tarball), data: fs.readFileSync(tarball) });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/`;
    return this.url;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]);
    this.requests.push(url);
    const tarballMatch = /^\/(.+)\/-\/([^/]+)$/.exec(url);
    if (tarballMatch) {
      const entry = this.#entries.get(tarballMatch[1]);
      if (!entry || entry.file !== tarballMatch[2]) return this.#notFound(res);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': entry.data.length });
      res.end(entry.data);
      return;
    }
    const entry = this.#entries.get(url.slice(1));
    if (!entry) return this.#notFound(res);
    const { name, version } = entry.manifest as { name: string; version: string };
    const doc = {
      name,
      'dist-tags': { latest: version },
      versions: {
        [version]: {
          ...entry.manifest,
          _id: `${name}@${version}`,
          dist: {
            tarball: `${this.url}${name}/-/${entry.file}`,
            shasum: createHash('sha1').update(entry.data).digest('hex'),
            integrity: `sha512-${createHash('sha512').update(entry.data).digest('base64')}`,
          },
        },
      },
    };
    const body = JSON.stringify(doc);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #notFound(res: http.ServerResponse): void {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
  }
}
