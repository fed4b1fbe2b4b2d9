// What socklab's pages share: $ and el for the DOM, and api() for this server's JSON.
"use strict";
const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) e.append(c);
  return e;
};

// A request the browser dropped on its own is sent again (a GET, or one the server never saw:
// Chromium aborts what is in flight when the machine's interfaces change, as they do whenever
// a lab's networks come or go: net::ERR_NETWORK_CHANGED).
async function api(path, options = {}) {
  let response;
  for (let attempt = 1; ; attempt++) {
    try {
      response = await fetch(path, {credentials: "same-origin", ...options});
      break;
    } catch (e) {
      if (attempt >= 3 || (options.method && options.method !== "GET")) throw e;
    }
  }
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error(body.error || body || response.statusText);
  return body;
}
function loadScript(src) {
  return new Promise((resolve, reject) => {
    document.head.append(el("script", {src, onload: resolve, onerror: () => reject(new Error(`${src} did not load`))}));
  });
}
