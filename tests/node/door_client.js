// The npm package asterisk-manager, unchanged, against the gateway's AMI door:
// login, Ping, an async Originate and its OriginateResponse, Command, events.
// Usage: node door_client.js PORT; prints one JSON object, exits 0 when every
// step answered (tests/amiserver/test_node_client.py checks the values).
'use strict';
const AsteriskManager = require('asterisk-manager');

const port = Number(process.argv[2]);
const ami = new AsteriskManager(port, '127.0.0.1', 'admin', 'admin-secret', true);
const out = { events: [], originateResponse: null };
const timer = setTimeout(() => finish('timeout'), 15000);

function finish(error) {
  clearTimeout(timer);
  out.error = error || null;
  process.stdout.write(JSON.stringify(out) + '\n');
  ami.disconnect();
  process.exit(error ? 1 : 0);
}

function call(action) {
  return new Promise((resolve, reject) => {
    ami.action(action, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

ami.on('managerevent', (event) => {
  out.events.push(event.event);
});
ami.on('originateresponse', (event) => {
  out.originateResponse = { actionid: event.actionid, response: event.response };
});

(async () => {
  out.ping = await call({ action: 'ping' });
  out.command = await call({ action: 'command', command: 'core show version' });
  out.originate = await call({
    action: 'originate',
    channel: 'Local/100@test',
    application: 'Wait',
    data: '1',
    async: 'true',
    actionid: 'node-orig-1',
  });
  try {
    await call({ action: 'command', command: 'module load foo.so' });
    out.denied = null;
  } catch (err) {
    out.denied = err.message;
  }
  const deadline = Date.now() + 10000;
  while (!(out.originateResponse && out.events.includes('Hangup')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  finish(out.originateResponse ? null : 'no OriginateResponse');
})().catch((err) => finish(String(err && err.message ? err.message : JSON.stringify(err))));
