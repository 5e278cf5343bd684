// ajam-gateway's live-calls dashboard: three ES modules, no build step, no
// CDN.  This one keeps the board live and runs the page; ajam.mjs talks to
// the gateway, board.mjs draws the channels and queues.
//
// Actions go as forms to {prefix}/json with the session cookie (same origin).
// The live view is seeded by CoreShowChannels and QueueStatus/QueueSummary,
// then kept by {prefix}/events (Server-Sent Events), one JSON event per message.
//
// A dropped stream: the browser reconnects by itself, sending Last-Event-ID,
// and the gateway resumes after it, once a Ping has shown that the session
// still lives. A session the gateway no longer knows (a gateway restart; a
// stream refused, or ended for its session by GatewayStreamClosed): log in
// again with the credentials this page holds in memory (never stored), open
// a new stream and seed again. GatewayEventsLost (we fell behind the ring) or
// GatewayAMIUp (the PBX may have changed while the link was down): seed again.
// While a seed runs, stream events wait in a queue and are applied after
// it, in order: whatever the snapshot missed, they bring.

import { BASE, logIn, send, succeeded, text } from "./ajam.mjs";
import {
  $, CHANNEL_EVENTS, QUEUE_EVENTS, channelEvent, clearBoard, queueEvent, reconcileChannels,
  reconcileQueues, report, showLink,
} from "./board.mjs";

const GATEWAY_EVENTS = [
  "GatewayEventsLost", "GatewayAMIDown", "GatewayAMIUp", "GatewayStreamClosed", "OriginateResponse",
];
const EVENTS = [...CHANNEL_EVENTS, ...QUEUE_EVENTS, ...GATEWAY_EVENTS];
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10000;

const state = {
  credentials: null, // {username, secret}: in memory only, to log in again after a restart
  stream: null,
  lastId: null, // the id of the last event received: where a new stream of this session goes on
  pending: null, // events received while a seed runs; null when they apply at once
  seedAgain: false,
  recovering: false,
  actions: 0,
};

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

// --- events ---------------------------------------------------------------------

function apply(event) {
  const name = event.Event;
  if (CHANNEL_EVENTS.includes(name)) channelEvent(event);
  else if (QUEUE_EVENTS.includes(name)) queueEvent(event);
  else if (name === "GatewayEventsLost" || name === "GatewayAMIUp") reseed();
  else if (name === "GatewayAMIDown") showLink("reconnecting", "the PBX link is down");
  else if (name === "GatewayStreamClosed" && event.Reason === "session") recover();
  else if (name === "OriginateResponse") originated(event);
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

function loggedOut(problem) {
  closeStream();
  state.credentials = null;
  clearBoard();
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
clearBoard();
