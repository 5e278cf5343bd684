// ajam-gateway's live-calls dashboard: one ES module, no build step, no CDN.
//
// Actions go as forms to {prefix}/json with the session cookie (same origin).
// The live view is seeded by CoreShowChannels and QueueStatus/QueueSummary,
// then kept by {prefix}/events (Server-Sent Events), one JSON event per message.
//
// Rows are keyed by Uniqueid, so an event seen twice never makes a second row.
// A dropped stream: the browser reconnects by itself, sending Last-Event-ID,
// and the gateway resumes after it, once a Ping has shown that the session
// still lives. A session the gateway no longer knows (a gateway restart; a
// stream refused, or ended for its session by GatewayStreamClosed): log in
// again with the credentials this page holds in memory (never stored), open
// a new stream and seed again. GatewayEventsLost (we fell behind the ring) or
// GatewayAMIUp (the PBX may have changed while the link was down): seed again.
// While a seed runs, stream events wait in a queue and are applied after
// it, in order: whatever the snapshot missed, they bring.
//
// Everything from the PBX reaches the page as text (textContent), never HTML.

const BASE = new URL("../../", location.href); // {prefix}/static/dashboard/ -> {prefix}/
const CHANNEL_EVENTS = [
  "Newchannel", "Newstate", "NewCallerid", "NewConnectedLine",
  "DialBegin", "DialEnd", "BridgeEnter", "BridgeLeave", "Hangup",
];
const QUEUE_EVENTS = [
  "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberStatus", "QueueMemberPause",
  "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon",
];
const GATEWAY_EVENTS = [
  "GatewayEventsLost", "GatewayAMIDown", "GatewayAMIUp", "GatewayStreamClosed", "OriginateResponse",
];
const EVENTS = [...CHANNEL_EVENTS, ...QUEUE_EVENTS, ...GATEWAY_EVENTS];
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10000;
const MEMBER_STATUS = [
  "unknown", "not in use", "in use", "busy", "invalid", "unavailable", "ringing",
  "ringing, in use", "on hold",
];

const $ = (id) => document.getElementById(id);
const state = {
  credentials: null, // {username, secret}: in memory only, to log in again after a restart
  stream: null,
  lastId: null, // the id of the last event received: where a new stream of this session goes on
  pending: null, // events received while a seed runs; null when they apply at once
  seedAgain: false,
  recovering: false,
  channels: new Map(), // Uniqueid -> {fields, bridge, row}
  queues: new Map(), // Queue -> {params, summary, members: Map, callers: Map}
  actions: 0,
};

// --- talking to the gateway ---------------------------------------------------

/** One action through {prefix}/json: the answer's {response, events}. */
async function send(fields) {
  const reply = await fetch(new URL("json", BASE), {
    method: "POST",
    body: new URLSearchParams(fields),
    credentials: "same-origin",
  });
  if (!reply.ok) throw new Error(`the gateway answered HTTP ${reply.status}`);
  return reply.json();
}

function succeeded(answer) {
  return answer.response !== null && answer.response.Response === "Success";
}

/** A value as text: repeated keys arrive as arrays; Asterisk writes "<unknown>" for none. */
function text(value) {
  const joined = Array.isArray(value) ? value.join(", ") : (value ?? "");
  return joined === "<unknown>" ? "" : joined;
}

async function logIn({ username, secret }) {
  const answer = await send({ Action: "Login", Username: username, Secret: secret });
  return succeeded(answer) ? null : text(answer.response?.Message) || "Login failed";
}

// --- the stream -----------------------------------------------------------------

/** Opens {prefix}/events (after `cursor`, when given); resolves once it is
 * open, rejects if it fails before. */
function openStream(cursor) {
  closeStream();
  const url = new URL("events", BASE);
  url.searchParams.set("events", EVENTS.join(","));
  if (cursor !== null) url.searchParams.set("lastEventId", cursor);
  const stream = new EventSource(url);
  state.stream = stream;
  for (const name of EVENTS) stream.addEventListener(name, received);
  return new Promise((resolve, reject) => {
    let opened = false;
    stream.addEventListener("open", () => {
      opened = true;
      showLink("live", "live");
      resolve();
    });
    stream.addEventListener("error", () => {
      if (stream !== state.stream) return;
      if (!opened) {
        closeStream();
        reject(new Error("the event stream did not open"));
      } else if (stream.readyState === EventSource.CLOSED) {
        recover();
      } else {
        showLink("reconnecting", "reconnecting…");
        checkSession(stream);
      }
    });
  });
}

/** The stream dropped and the browser will reconnect with Last-Event-ID in
 * `retry` ms: right while the session lives. A gateway that restarted knows
 * it no more and would refuse the stream with a 401 whose Basic challenge
 * stalls EventSource (a browser would ask for a password), so look first. */
async function checkSession(stream) {
  const alive = await send({ Action: "Ping" }).then(succeeded, () => false);
  if (!alive && stream === state.stream) recover();
}

function closeStream() {
  if (state.stream !== null) state.stream.close();
  state.stream = null;
}

function received(message) {
  const event = JSON.parse(message.data);
  if (message.lastEventId) state.lastId = message.lastEventId;
  if (state.pending !== null) state.pending.push(event);
  else apply(event);
}

/** A stream after `cursor`, which brings everything since; without one, the
 * stream first (its events wait), then the snapshot, then what waited. */
async function connect(cursor) {
  if (cursor !== null) {
    await openStream(cursor);
    return;
  }
  state.pending = [];
  try {
    await openStream(null);
    await seedUntilStill();
  } finally {
    flush();
  }
}

async function reseed() {
  if (state.pending !== null) {
    state.seedAgain = true;
    return;
  }
  state.pending = [];
  try {
    await seedUntilStill();
  } catch (error) {
    report(`Could not refresh: ${error.message}`);
  } finally {
    flush();
  }
}

async function seedUntilStill() {
  do {
    state.seedAgain = false;
    await seed();
  } while (state.seedAgain);
}

function flush() {
  const pending = state.pending ?? [];
  state.pending = null;
  for (const event of pending) apply(event);
}

/** Until live again, with backoff: the same session goes on after its last
 * event; a session the gateway no longer knows logs in again and seeds. */
async function recover() {
  if (state.recovering || state.credentials === null) return;
  state.recovering = true;
  closeStream();
  showLink("reconnecting", "reconnecting…");
  let delay = RETRY_FIRST_MS;
  try {
    for (;;) {
      try {
        const alive = succeeded(await send({ Action: "Ping" }));
        if (!alive) {
          const problem = await logIn(state.credentials);
          if (problem !== null) {
            loggedOut(problem);
            return;
          }
          state.lastId = null; // a cursor of the old session's gateway means nothing here
        }
        await connect(state.lastId);
        return;
      } catch (error) {
        showLink("offline", `offline: ${error.message}`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  } finally {
    state.recovering = false;
  }
}

// --- seeding --------------------------------------------------------------------

async function seed() {
  const [channels, queues, summary] = await Promise.all([
    send({ Action: "CoreShowChannels" }),
    send({ Action: "QueueStatus" }),
    send({ Action: "QueueSummary" }),
  ]);
  if (!succeeded(channels)) throw new Error(text(channels.response?.Message) || "no channel list");
  reconcileChannels(channels.events.filter((e) => e.Event === "CoreShowChannel"));
  if (succeeded(queues)) reconcileQueues(queues.events, summary.events);
}

function reconcileChannels(items) {
  const seen = new Set(items.map((item) => item.Uniqueid));
  for (const id of [...state.channels.keys()]) if (!seen.has(id)) removeChannel(id);
  for (const item of items) upsertChannel(item).bridge = text(item.BridgeId);
  showBridges();
}

// --- channels -------------------------------------------------------------------

function apply(event) {
  const name = event.Event;
  if (CHANNEL_EVENTS.includes(name)) channelEvent(event);
  else if (QUEUE_EVENTS.includes(name)) queueEvent(event);
  else if (name === "GatewayEventsLost" || name === "GatewayAMIUp") reseed();
  else if (name === "GatewayAMIDown") showLink("reconnecting", "the PBX link is down");
  else if (name === "GatewayStreamClosed" && event.Reason === "session") recover();
  else if (name === "OriginateResponse") originated(event);
}

function channelEvent(event) {
  const id = text(event.Uniqueid);
  switch (event.Event) {
    case "Hangup":
      removeChannel(id);
      showBridges();
      return;
    case "DialBegin":
      if (state.channels.has(id)) setLink(id, `dialling ${text(event.DestChannel)}`);
      setLink(text(event.DestUniqueid), event.Channel ? `called by ${text(event.Channel)}` : "");
      return;
    case "DialEnd":
      if (state.channels.has(id)) setLink(id, `dial: ${text(event.DialStatus).toLowerCase()}`);
      return;
    case "BridgeEnter":
    case "BridgeLeave":
      if (!state.channels.has(id)) return;
      state.channels.get(id).bridge = event.Event === "BridgeEnter" ? text(event.BridgeUniqueid) : "";
      setLink(id, "");
      showBridges();
      return;
    default: // Newchannel, Newstate, NewCallerid, NewConnectedLine
      if (id) upsertChannel(event);
  }
}

/** The row of `fields.Uniqueid`, made if new, with these fields shown. */
function upsertChannel(fields) {
  const id = text(fields.Uniqueid);
  let channel = state.channels.get(id);
  if (channel === undefined) {
    channel = { fields: {}, bridge: "", row: channelRow(id) };
    state.channels.set(id, channel);
    $("channels").tBodies[0].append(channel.row);
    countChannels();
  }
  Object.assign(channel.fields, fields);
  const f = channel.fields;
  const cells = channel.row.cells;
  cells[0].textContent = text(f.Channel);
  cells[1].textContent = text(f.ChannelStateDesc);
  cells[2].textContent = party(f.CallerIDName, f.CallerIDNum);
  cells[3].textContent = party(f.ConnectedLineName, f.ConnectedLineNum);
  cells[4].textContent = text(f.Exten) ? `${text(f.Exten)}@${text(f.Context)}` : "";
  channel.row.dataset.state = text(f.ChannelStateDesc);
  cells[6].firstChild.setAttribute("aria-label", `Hang up ${text(f.Channel)}`);
  return channel;
}

function party(name, number) {
  const [n, num] = [text(name), text(number)];
  if (n && num && n !== num) return `${n} <${num}>`;
  return n || num;
}

function channelRow(id) {
  const row = document.createElement("tr");
  row.dataset.uniqueid = id;
  row.className = "new";
  for (let i = 0; i < 7; i++) row.append(document.createElement("td"));
  row.cells[0].className = "channel";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Hang up";
  button.addEventListener("click", () => hangUp(id));
  row.cells[6].append(button);
  return row;
}

function removeChannel(id) {
  const channel = state.channels.get(id);
  if (channel === undefined) return;
  channel.row.remove();
  state.channels.delete(id);
  countChannels();
}

function countChannels() {
  $("channel-count").textContent = String(state.channels.size);
  $("no-channels").hidden = state.channels.size > 0;
}

function setLink(id, link) {
  const channel = state.channels.get(id);
  if (channel !== undefined) channel.row.cells[5].textContent = link;
}

/** "with X" for every channel in a bridge, from the bridge's other channels. */
function showBridges() {
  const channels = [...state.channels.values()];
  for (const channel of channels) {
    if (!channel.bridge) continue;
    const peers = channels.filter((other) => other !== channel && other.bridge === channel.bridge);
    const names = peers.map((peer) => text(peer.fields.Channel));
    channel.row.cells[5].textContent = names.length ? `with ${names.join(", ")}` : "in a bridge";
  }
}

async function hangUp(id) {
  const channel = state.channels.get(id);
  if (channel === undefined) return;
  const name = text(channel.fields.Channel);
  const answer = await send({ Action: "Hangup", Channel: name });
  report(succeeded(answer) ? `Hung up ${name}` : `Hangup of ${name}: ${text(answer.response?.Message)}`);
}

// --- originate ------------------------------------------------------------------

async function call(form) {
  const from = form.elements.from.value.trim();
  const to = form.elements.to.value.trim();
  const context = form.elements.context.value.trim();
  const channel = from.includes("/") ? from : `Local/${from}@${context}`;
  state.actions += 1;
  report(`Calling ${to} from ${channel}…`); // its OriginateResponse may come before this answer
  const answer = await send({
    Action: "Originate", Channel: channel, Context: context, Exten: to, Priority: "1",
    Async: "true", ActionID: `dashboard-${state.actions}`,
  });
  if (!succeeded(answer)) report(`Call failed: ${text(answer.response?.Message)}`);
}

function originated(event) {
  const result = text(event.Response);
  const to = text(event.Exten) || text(event.Channel);
  report(result === "Success" ? `Call to ${to} answered` : `Call to ${to}: ${result} (${text(event.Reason)})`);
}

// --- queues ---------------------------------------------------------------------

function queueOf(name) {
  if (!state.queues.has(name)) {
    state.queues.set(name, { params: {}, summary: {}, members: new Map(), callers: new Map() });
  }
  return state.queues.get(name);
}

function reconcileQueues(statusEvents, summaryEvents) {
  state.queues.clear();
  for (const event of statusEvents) {
    const queue = text(event.Queue);
    if (!queue) continue;
    if (event.Event === "QueueParams") queueOf(queue).params = event;
    else if (event.Event === "QueueMember") queueOf(queue).members.set(text(event.Location), event);
    else if (event.Event === "QueueEntry") queueOf(queue).callers.set(text(event.Uniqueid), event);
  }
  for (const event of summaryEvents) {
    if (event.Event === "QueueSummary" && text(event.Queue)) queueOf(text(event.Queue)).summary = event;
  }
  showQueues();
}

function queueEvent(event) {
  const queue = queueOf(text(event.Queue));
  const member = text(event.Interface || event.Location);
  switch (event.Event) {
    case "QueueMemberRemoved":
      queue.members.delete(member);
      break;
    case "QueueCallerJoin":
      queue.callers.set(text(event.Uniqueid), event);
      break;
    case "QueueCallerLeave":
    case "QueueCallerAbandon":
      queue.callers.delete(text(event.Uniqueid));
      break;
    default: // QueueMemberAdded, QueueMemberStatus, QueueMemberPause
      queue.members.set(member, { ...queue.members.get(member), ...event, Name: event.MemberName });
  }
  showQueues();
}

function showQueues() {
  const list = $("queues");
  const sections = [...state.queues].sort(([a], [b]) => a.localeCompare(b)).map(queueSection);
  list.replaceChildren(...sections);
  $("no-queues").hidden = state.queues.size > 0;
}

function queueSection([name, queue]) {
  const section = document.createElement("section");
  section.dataset.queue = name;
  const title = document.createElement("h3");
  title.textContent = name;
  const summary = document.createElement("p");
  summary.className = "summary";
  const free = [...queue.members.values()].filter((m) => text(m.Status) === "1" && text(m.Paused) !== "1");
  const strategy = text(queue.params.Strategy);
  summary.textContent = [
    strategy && `strategy ${strategy}`,
    `${free.length} of ${queue.members.size} members free`,
    `${queue.callers.size} waiting`,
    text(queue.summary.LongestHoldTime) && `longest wait ${text(queue.summary.LongestHoldTime)} s`,
  ].filter(Boolean).join(" · ");
  const members = table(`Members of ${name}`, ["Member", "Interface", "Status", "Paused"],
    [...queue.members.values()].map((m) => [
      text(m.Name || m.MemberName), text(m.Location || m.Interface),
      MEMBER_STATUS[Number(text(m.Status))] ?? text(m.Status), text(m.Paused) === "1" ? "paused" : "",
    ]));
  const callers = table(`Callers waiting in ${name}`, ["Position", "Caller", "Channel"],
    [...queue.callers.values()].map((c) => [
      text(c.Position), party(c.CallerIDName, c.CallerIDNum), text(c.Channel),
    ]));
  section.append(title, summary, members, callers);
  return section;
}

/** A small table of text cells, with a caption for screen readers. */
function table(caption, headings, rows) {
  const element = document.createElement("table");
  element.createCaption().textContent = caption;
  element.caption.className = "visually-hidden";
  const head = element.createTHead().insertRow();
  for (const heading of headings) {
    const cell = document.createElement("th");
    cell.scope = "col";
    cell.textContent = heading;
    head.append(cell);
  }
  const body = element.createTBody();
  for (const values of rows) {
    const row = body.insertRow();
    for (const value of values) row.insertCell().textContent = value;
  }
  return element;
}

// --- call history ---------------------------------------------------------------

/** Shows the panel unless {prefix}/history is off (404) or not for this user (401/403). */
async function probeHistory() {
  const reply = await fetch(new URL("history?limit=1", BASE), { credentials: "same-origin" });
  $("history-panel").hidden = [401, 403, 404].includes(reply.status);
}

async function showHistory(number) {
  const reply = await fetch(new URL("history", BASE), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ number, limit: 20 }),
    credentials: "same-origin",
  });
  const answer = await reply.json();
  if (!reply.ok) {
    report(`History: ${answer.error}`);
    return;
  }
  const body = $("history").tBodies[0];
  body.replaceChildren();
  for (const found of answer.calls) {
    const row = body.insertRow();
    const start = new Date(found.start).toLocaleString();
    for (const value of [start, found.src, found.dst, found.disposition, String(found.billsec)]) {
      row.insertCell().textContent = value;
    }
  }
  $("history").hidden = answer.calls.length === 0;
  $("history-empty").hidden = answer.calls.length > 0;
}

// --- the page -------------------------------------------------------------------

function report(message) {
  $("status").textContent = message;
}

function showLink(key, label) {
  $("link").dataset.state = key;
  $("link").textContent = label;
}

function loggedOut(problem) {
  closeStream();
  state.credentials = null;
  for (const id of [...state.channels.keys()]) removeChannel(id);
  state.queues.clear();
  showQueues();
  $("board").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = problem;
  showLink("offline", "not connected");
  $("login-user").focus();
}

async function loggedIn(credentials) {
  state.credentials = credentials;
  $("login").hidden = true;
  $("login-error").textContent = "";
  $("board").hidden = false;
  $("logout").hidden = false;
  $("channels-title").focus();
  state.lastId = null;
  await Promise.all([connect(null), probeHistory()]);
}

/** Runs a form's work with its submit button disabled, reporting what fails. */
function onSubmit(id, work) {
  const form = $(id);
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await work(form);
    } catch (error) {
      report(error.message);
    } finally {
      button.disabled = false;
    }
  });
}

onSubmit("login", async (form) => {
  const credentials = { username: form.elements.username.value, secret: form.elements.secret.value };
  const problem = await logIn(credentials);
  if (problem !== null) {
    $("login-error").textContent = problem;
    return;
  }
  form.elements.secret.value = "";
  try {
    await loggedIn(credentials);
  } catch {
    recover();
  }
});
onSubmit("call", call);
onSubmit("history-form", (form) => showHistory(form.elements.number.value.trim()));
$("logout").addEventListener("click", async () => {
  closeStream();
  await send({ Action: "Logoff" }).catch(() => null);
  loggedOut("");
});
countChannels();
showQueues();
