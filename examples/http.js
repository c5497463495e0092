// Node's http server with its connections on protonet.
//   node examples/http.js            (PORT=7002 by default; PORT=0 picks a free port)
//   curl http://127.0.0.1:7002/      and   curl --data-binary @somefile http://127.0.0.1:7002/echo
'use strict';
const http = require('node:http');
const protonet = require('protonet');

const port = Number(process.env.PORT ?? 7002);

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/echo') {
    res.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream');
    req.pipe(res); // streamed back as it arrives
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ hello: 'from protonet', method: req.method, url: req.url }) + '\n');
});

// Instead of server.listen(port, host, cb):
protonet.serveHttp(server, port, '127.0.0.1', () => {
  console.log(`http server listening on http://127.0.0.1:${server.address().port}/`);
});

process.on('SIGINT', () => server.close());
process.on('SIGTERM', () => server.close());
