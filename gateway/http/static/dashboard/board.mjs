// What the page shows: the current channels and the queues, kept from
// snapshots (reconcile*) and events (*Event), and the status and link lines.
//
// Rows are keyed by Uniqueid, so an event seen twice never makes a second row.
// Everything from the PBX reaches the page as text (textContent), never HTML.

import { send, succeeded, text } from "./ajam.mjs";

export const CHANNEL_EVENTS = [
  "Newchannel", "Newstate", "NewCallerid", "NewConnectedLine",
  "DialBegin", "DialEnd", "BridgeEnter", "BridgeLeave", "Hangup",
];
export const QUEUE_EVENTS = [
  "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberStatus", "QueueMemberPause",
  "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon",
];
const MEMBER_STATUS = [
  "unknown", "not in use", "in use", "busy", "invalid", "unavailable", "ringing",
  "ringing, in use", "on hold",
];

export const $ = (id) => document.getElementById(id);
const board = {
  channels: new Map(), // Uniqueid -> {fields, bridge, row}
  queues: new Map(), // Queue -> {params, summary, members: Map, callers: Map}
};

/** An empty board: no channel, no queue (at the start, and at a logout). */
export function clearBoard() {
  for (const id of [...board.channels.keys()]) removeChannel(id);
  board.queues.clear();
  countChannels();
  showQueues();
}

// --- channels -------------------------------------------------------------------

export function reconcileChannels(items) {
  const seen = new Set(items.map((item) => item.Uniqueid));
  for (const id of [...board.channels.keys()]) if (!seen.has(id)) removeChannel(id);
  for (const item of items) upsertChannel(item).bridge = text(item.BridgeId);
  showBridges();
}

export function channelEvent(event) {
  const id = text(event.Uniqueid);
  switch (event.Event) {
    case "Hangup":
      removeChannel(id);
      showBridges();
      return;
    case "DialBegin":
      if (board.channels.has(id)) setLink(id, `dialling ${text(event.DestChannel)}`);
      setLink(text(event.DestUniqueid), event.Channel ? `called by ${text(event.Channel)}` : "");
      return;
    case "DialEnd":
      if (board.channels.has(id)) setLink(id, `dial: ${text(event.DialStatus).toLowerCase()}`);
      return;
    case "BridgeEnter":
    case "BridgeLeave":
      if (!board.channels.has(id)) return;
      board.channels.get(id).bridge = event.Event === "BridgeEnter" ? text(event.BridgeUniqueid) : "";
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
  let channel = board.channels.get(id);
  if (channel === undefined) {
    channel = { fields: {}, bridge: "", row: channelRow(id) };
    board.channels.set(id, channel);
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
  const channel = board.channels.get(id);
  if (channel === undefined) return;
  channel.row.remove();
  board.channels.delete(id);
  countChannels();
}

function countChannels() {
  $("channel-count").textContent = String(board.channels.size);
  $("no-channels").hidden = board.channels.size > 0;
}

function setLink(id, link) {
  const channel = board.channels.get(id);
  if (channel !== undefined) channel.row.cells[5].textContent = link;
}

/** "with X" for every channel in a bridge, from the bridge's other channels. */
function showBridges() {
  const channels = [...board.channels.values()];
  for (const channel of channels) {
    if (!channel.bridge) continue;
    const peers = channels.filter((other) => other !== channel && other.bridge === channel.bridge);
    const names = peers.map((peer) => text(peer.fields.Channel));
    channel.row.cells[5].textContent = names.length ? `with ${names.join(", ")}` : "in a bridge";
  }
}

async function hangUp(id) {
  const channel = board.channels.get(id);
  if (channel === undefined) return;
  const name = text(channel.fields.Channel);
  const answer = await send({ Action: "Hangup", Channel: name });
  report(succeeded(answer) ? `Hung up ${name}` : `Hangup of ${name}: ${text(answer.response?.Message)}`);
}

// --- queues ---------------------------------------------------------------------

function queueOf(name) {
  if (!board.queues.has(name)) {
    board.queues.set(name, { params: {}, summary: {}, members: new Map(), callers: new Map() });
  }
  return board.queues.get(name);
}

export function reconcileQueues(statusEvents, summaryEvents) {
  board.queues.clear();
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

export function queueEvent(event) {
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
  const sections = [...board.queues].sort(([a], [b]) => a.localeCompare(b)).map(queueSection);
  list.replaceChildren(...sections);
  $("no-queues").hidden = board.queues.size > 0;
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

// --- the status line ------------------------------------------------------------

export function report(message) {
  $("status").textContent = message;
}

export function showLink(key, label) {
  $("link").dataset.state = key;
  $("link").textContent = label;
}
