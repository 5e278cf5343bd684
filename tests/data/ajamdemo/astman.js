/* Behavioural stand-in for Asterisk's static-http/astman.js (GPL; not in this
 * repository), written for tests/e2e/test_ajamdemo.py from what that file
 * does, so that the gateway is tested against the same requests and the same
 * parsing:
 *   - every request is a GET through Prototype's Ajax.Request to the URL set
 *     by setURL ("../rawman" from the page in {prefix}/static/), with the
 *     parameters as the query ("action=login&username=...", "action=status",
 *     "action=waitevent", "action=hangup&channel=...");
 *   - an answer's responseText is split at "\r\n"; each non-empty line at
 *     ": " into a lower-cased name and the text up to the next ": "; an empty
 *     line ends a message. The callback gets the list of messages;
 *   - channels are kept by name: a message with an Event header of "Hangup"
 *     deletes its channel, "Link"/"Unlink"/"Rename" relink or rename, any
 *     other copies the fields callerid, calleridname, context, extension,
 *     priority, account, state, link, uniqueid (Asterisk 1.4's names; later
 *     versions' events only fill "channel"); a message without an Event
 *     header (a Status answer) copies them too;
 *   - channelTable lists every channel. The original builds the table as an
 *     HTML string; this one builds it with DOM nodes and text.
 */
"use strict";

function Astman() {
  var me = this;
  var channels = {};
  var FIELDS = ["callerid", "calleridname", "context", "extension", "priority",
                "account", "state", "link", "uniqueid"];

  this.setURL = function (url) { me.url = url; };
  this.setEventCallback = function (callback) { me.eventcallback = callback; };
  this.setDebug = function (debug) { me.debug = debug; };

  function copyFields(msg, name) {
    channels[name].channel = name;
    FIELDS.forEach(function (field) {
      if (msg.headers[field]) channels[name][field] = msg.headers[field];
    });
  }

  this.channelUpdate = function (msg, channame) {
    var name = channame || msg.headers.channel;
    if (!channels[name]) channels[name] = {};
    var event = msg.headers.event;
    if (event === "Hangup") {
      delete channels[name];
    } else if (event === "Link" || event === "Unlink") {
      var one = msg.headers.channel1, two = msg.headers.channel2;
      if (one && channels[one]) channels[one].link = event === "Link" ? two : undefined;
      if (two && channels[two]) channels[two].link = event === "Link" ? one : undefined;
    } else if (event === "Rename") {
      var from = msg.headers.oldname, to = msg.headers.newname;
      if (from && channels[from]) {
        channels[to] = channels[from];
        delete channels[from];
      }
    } else {
      copyFields(msg, name);
    }
  };
  this.channelClear = function () { channels = {}; };
  this.channelInfo = function (name) { return channels[name]; };

  this.channelTable = function (callback) {
    me.chancallback = callback;
    var table = document.createElement("table");
    table.className = "chantable";
    var labels = table.insertRow();
    labels.className = "labels";
    ["Channel", "State", "Caller", "Location", "Link"].forEach(function (label) {
      labels.insertCell().textContent = label;
    });
    var count = 0;
    Object.keys(channels).forEach(function (name) {
      var chan = channels[name];
      if (!chan.channel) return;
      var row = table.insertRow();
      row.id = chan.channel;
      row.className = count++ % 2 ? "chanlistodd" : "chanlisteven";
      row.addEventListener("click", function () { me.chancallback(row.id); });
      var caller = chan.calleridname || chan.callerid || "Unknown";
      var place = chan.extension ? chan.extension + "@" + chan.context + ":" + chan.priority : "None";
      [chan.channel, chan.state || "unknown", caller, place, chan.link || "None"].forEach(
        function (value) { row.insertCell().textContent = value; });
    });
    if (!count) table.insertRow().insertCell().textContent = "No active channels";
    return table;
  };

  this.parseResponse = function (t, callback) {
    var msgs = [];
    var current = null;
    t.responseText.split("\r\n").forEach(function (line) {
      if (line.length) {
        var fields = line.split(": ");
        if (!current) {
          current = { headers: {}, names: [] };
          msgs.push(current);
        }
        current.headers[fields[0].toLowerCase()] = fields[1];
        current.names.push(fields[0].toLowerCase());
      } else {
        current = null;
      }
    });
    callback(msgs);
  };

  this.sendRequest = function (request, callback) {
    me.callback = callback;
    new Ajax.Request(me.url, {
      method: "get",
      asynchronous: true,
      parameters: request,
      onSuccess: function (t) { me.parseResponse(t, me.callback); },
      onFailure: function (t) { window.astmanError = "Error: " + t.status; },
    });
  };

  this.pollEvents = function () {
    new Ajax.Request(me.url, {
      method: "get",
      asynchronous: true,
      parameters: "action=waitevent",
      onSuccess: function (t) { me.parseResponse(t, me.eventcallback); },
      onFailure: function (t) { window.astmanError = "Event Error: " + t.status; },
    });
  };
}

var astmanEngine = new Astman();
