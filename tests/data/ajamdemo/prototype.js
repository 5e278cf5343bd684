/* Behavioural stand-in for the two pieces of the Prototype library that
 * Asterisk's static-http/ajamdemo.html and astman.js use (written for
 * tests/e2e/test_ajamdemo.py; the real files are not in this repository):
 *   $(id)                     document.getElementById
 *   new Ajax.Request(url, o)  an asynchronous XMLHttpRequest; for method
 *                             "get" the parameters go after "?"; the headers
 *                             Prototype sends; onSuccess for a 2xx status,
 *                             else onFailure, each given the request object
 *                             (the page reads its responseText).
 */
"use strict";

function $(id) {
  return document.getElementById(id);
}

var Ajax = {
  Request: function (url, options) {
    var request = new XMLHttpRequest();
    var method = (options.method || "post").toUpperCase();
    var target = url;
    if (method === "GET" && options.parameters) {
      target += (url.indexOf("?") >= 0 ? "&" : "?") + options.parameters;
    }
    request.open(method, target, options.asynchronous !== false);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.setRequestHeader("X-Prototype-Version", "1.5.0");
    request.setRequestHeader("Accept", "text/javascript, text/html, application/xml, text/xml, */*");
    request.onreadystatechange = function () {
      if (request.readyState !== 4) return;
      var ok = request.status >= 200 && request.status < 300;
      var handler = ok ? options.onSuccess : options.onFailure;
      if (handler) handler(request);
    };
    request.send(method === "GET" ? null : options.parameters || null);
    this.transport = request;
  },
};
