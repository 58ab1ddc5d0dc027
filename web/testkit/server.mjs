// A tiny static file server for the browser tests (and for looking at pages by hand): binds
// 127.0.0.1 on a random free port, serves files under one root folder, nothing else. Kept out
// of test/ because node --test runs every .mjs file under a folder named "test".
//   const srv = await startServer('/path/to/web');  // srv.url = 'http://127.0.0.1:PORT/'
//   startServer(root, { api })   api(req, res) -> Promise<boolean>: a backend's routes first (true:
//                                answered), e.g. the demo shop's (web/server/demo.mjs)
//   startServer(root, { headers }) extra headers on every file served (e.g. a Content-Security-Policy)
//   ... await srv.close();
//   node testkit/server.mjs [root] [port]   serve until Ctrl-C (root defaults to web/)
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** The backend's routes before the static files: true when `api` answered the request. */
async function apiAnswered(api, req, res) {
  if (!api) return false;
  try {
    return await api(req, res);
  } catch {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('internal error\n');
    return true;
  }
}

export async function startServer(root, { port = 0, api = null, headers = {} } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    if (await apiAnswered(api, req, res)) return;
    const send = (code, text) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    } catch {
      return send(400, 'bad path\n');
    }
    let file = resolve(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) return send(403, 'outside the served folder\n');
    try {
      let st = await stat(file);
      if (st.isDirectory()) {
        if (!path.endsWith('/')) {
          res.writeHead(301, { location: path + '/' });
          return res.end();
        }
        file = join(file, 'index.html');
        st = await stat(file);
      }
      res.writeHead(200, {
        'content-type': TYPES[extname(file).toLowerCase()] || 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-cache',
        ...headers,
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    } catch {
      send(404, `not found: ${path}\n`);
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}/`,
    port: bound,
    close: () => new Promise((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = process.argv[2] || join(dirname(fileURLToPath(import.meta.url)), '..');
  const srv = await startServer(root, { port: Number(process.argv[3] || 0) });
  console.log(`serving ${resolve(root)} at ${srv.url}`);
}
