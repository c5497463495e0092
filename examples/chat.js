// Line-based chat: every line a client sends goes to every other client as "name: text".
//   node examples/chat.js            (PORT=7001 by default; PORT=0 picks a free port)
//   nc 127.0.0.1 7001                (in several terminals)
// Commands: /nick NAME renames you, /who lists who is here, /quit leaves.
'use strict';
const net = require('protonet');

const port = Number(process.env.PORT ?? 7001);
const clients = new Map(); // socket -> name
let guests = 0;

function broadcast(line, except) {
  for (const socket of clients.keys()) {
    if (socket !== except) socket.write(line + '\n');
  }
}

const server = net.createServer((socket) => {
  const name = `guest${++guests}`;
  clients.set(socket, name);
  socket.setEncoding('utf8');
  socket.write(`* welcome, ${name} (${clients.size} here)\n`);
  broadcast(`* ${name} joined`, socket);

  let buffered = '';
  socket.on('data', (text) => {
    buffered += text;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).replace(/\r$/, '');
      buffered = buffered.slice(nl + 1);
      handle(socket, line);
    }
  });
  socket.on('error', () => {}); // 'close' follows and says goodbye
  socket.on('close', () => {
    const who = clients.get(socket);
    clients.delete(socket);
    broadcast(`* ${who} left`);
  });
});

function handle(socket, line) {
  const me = clients.get(socket);
  if (line.startsWith('/nick ')) {
    const nick = line.slice(6).trim();
    if (!nick) return;
    clients.set(socket, nick);
    broadcast(`* ${me} is now ${nick}`, socket);
    socket.write(`* you are now ${nick}\n`);
  } else if (line === '/who') {
    socket.write(`* here: ${[...clients.values()].join(', ')}\n`);
  } else if (line === '/quit') {
    socket.end('* bye\n');
  } else if (line) {
    broadcast(`${me}: ${line}`, socket);
  }
}

server.listen(port, '127.0.0.1', () => {
  console.log(`chat server listening on 127.0.0.1:${server.address().port}`);
});

function shutdown() {
  server.close();
  for (const socket of clients.keys()) socket.end('* server shutting down\n');
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
