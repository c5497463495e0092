// Echo server: every byte a client sends comes back to it.
//   node examples/echo.js            (PORT=7000 by default; PORT=0 picks a free port)
//   nc 127.0.0.1 7000
'use strict';
const net = require('protonet'); // instead of require('net')

const port = Number(process.env.PORT ?? 7000);

const server = net.createServer((socket) => {
  socket.on('error', (err) => console.error('connection error:', err.message));
  socket.pipe(socket);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`echo server listening on 127.0.0.1:${server.address().port}`);
});

process.on('SIGINT', () => server.close());
process.on('SIGTERM', () => server.close());
