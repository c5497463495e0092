'use strict';
// http.js - node:http's server fed by the implementation's server through
// emit('connection', socket): the same HTTP code on either socket layer.
const http = require('node:http');
const { parseArgs, send, commands } = require('../lib/worker');

const { net } = parseArgs();
const body = 'hello world\n';
const hs = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
// noDelay as Node's http.Server sets it on each socket it gets (and as
// protonet.serveHttp() does): Bun's http.Server does not set it on a socket
// handed to it, and there every response then waited for a delayed ACK.
const server = net.createServer({ noDelay: true }, (sock) => hs.emit('connection', sock));
server.listen({ port: 0, host: '127.0.0.1', backlog: 511 }, () => send('ready', { port: server.address().port }));
commands();
