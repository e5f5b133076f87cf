// A double of the Talos Image Factory's HTTP frontend (siderolabs/image-factory docs/api.md and
// internal/frontend/http: configuration.go, http.go MatchError), read from its source:
//   POST /schematics: the body is YAML (JSON is a subset), decoded strictly; 201 with
//     Content-Type application/json and {"id": ..., "schematic": <canonical YAML>} plus a newline
//     (json.Encoder); an invalid schematic is 400 as http.Error writes it: text/plain, the decoder's
//     message and a newline;
//   GET /schematics/:id: 200 application/yaml with the canonical form, or 404 "schematic not found";
//   GET|HEAD /image/:id/:version/:path: 404 for an unknown schematic, else 200 (a few bytes stand in
//     for the image);
//   every answer carries Server and X-Request-ID.
// Simplifications, said plainly: there is no Go here, so the double decodes and hashes with
//   guestlink's own port (src/provision/talos) — agreement on IDs is proven by the go-yaml vectors in
//   test/provision/talos, not by this double; `owner` mode plays an Enterprise factory with
//   authentication, which sets `owner` and so answers another ID; the other modes play broken servers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TalosInputError } from '../../src/provision/talos/errors.js';
import { canonicalYaml, schematicId } from '../../src/provision/talos/schematic.js';
import { decodeSchematic } from '../../src/provision/talos/schematic-decode.js';

export type FactoryMode = 'normal' | 'owner' | 'not-json' | 'huge' | 'hang' | 'fail' | 'unauthorized';

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
}

export class ImageFactoryDouble {
  readonly schematics = new Map<string, string>();
  readonly requests: RecordedRequest[] = [];
  mode: FactoryMode = 'normal';
  private server: Server | undefined;
  private seq = 0;
  private readonly hanging = new Set<import('node:http').ServerResponse>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        this.handle(req.method ?? '', req.url ?? '/', req.headers['content-type'], Buffer.concat(chunks).toString('utf8'), res),
      );
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(
    method: string,
    url: string,
    contentType: string | undefined,
    body: string,
    res: import('node:http').ServerResponse,
  ): void {
    const path = new URL(url, 'http://x').pathname;
    this.requests.push({ method, path, contentType, body });
    res.setHeader('Server', 'image-factory-double');
    res.setHeader('X-Request-ID', `req-${++this.seq}`);
    const text = (status: number, msg: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(`${msg}\n`);
      return;
    };
    if (method === 'POST' && path === '/schematics') {
      if (this.mode === 'hang') {
        this.hanging.add(res);
        return;
      }
      if (this.mode === 'fail') return text(500, 'internal server error');
      if (this.mode === 'unauthorized') {
        res.setHeader('WWW-Authenticate', 'Basic realm="Image Factory Enterprise", charset="UTF-8"');
        return text(401, 'unauthorized');
      }
      if (this.mode === 'not-json') {
        res.writeHead(201, { 'Content-Type': 'text/html' });
        res.end('<html>a login page</html>');
        return;
      }
      if (this.mode === 'huge') {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(`{"id": "${'0'.repeat(64)}", "schematic": "${'x'.repeat(3 << 20)}"}`);
        return;
      }
      let schematic: ReturnType<typeof decodeSchematic>;
      try {
        schematic = decodeSchematic(body, 'body');
      } catch (err) {
        const e = err as TalosInputError;
        return text(400, e.goMessage ? `yaml: construct errors: ${e.goMessage}` : e.message);
      }
      if (this.mode === 'owner') schematic.owner = 'alice';
      const canonical = canonicalYaml(schematic);
      const id = schematicId(canonical);
      this.schematics.set(id, canonical);
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ id, schematic: canonical })}\n`);
      return;
    }
    const get = /^\/schematics\/([0-9a-f]{64})$/.exec(path);
    if (method === 'GET' && get) {
      const s = this.schematics.get(get[1] as string);
      if (!s) return text(404, 'schematic not found');
      res.writeHead(200, { 'Content-Type': 'application/yaml' });
      res.end(s);
      return;
    }
    const image = /^\/image\/([0-9a-f]{64})\/(v[^/]+)\/([^/]+)$/.exec(path);
    if ((method === 'GET' || method === 'HEAD') && image) {
      if (!this.schematics.has(image[1] as string)) return text(404, 'schematic not found');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Disposition': `attachment; filename=${image[3]}` });
      res.end(method === 'HEAD' ? undefined : 'image bytes');
      return;
    }
    return text(404, 'route not found');
  }
}
