// socklab's page: the lab's picture, a terminal per host, the workspace in an editor, Check,
// captures and recorded sessions. Everything comes from this server (the cookie the link set
// authorises each request); nothing from anywhere else.
"use strict";
const state = {lab: null, terminals: {}, editor: null, file: null, replay: null};
window.socklab = state;

function status(text) { $("status").textContent = text || ""; }

// --- tabs ------------------------------------------------------------------------------
function tab(id, title, {closable = false, onShow = null, onClose = null} = {}) {
  let button = document.querySelector(`#tabs [data-pane="${id}"]`);
  if (!button) {
    button = el("button", {textContent: title});
    button.dataset.pane = id;
    button.addEventListener("click", () => show(id));
    if (closable) {
      const x = el("span", {className: "close", textContent: "×", title: "close"});
      x.addEventListener("click", (e) => { e.stopPropagation(); onClose && onClose(); });
      button.append(x);
    }
    button.onShow = onShow;
    $("tabs").append(button);
  }
  return button;
}
function show(id) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.pane === id);
  for (const p of document.querySelectorAll(".pane")) p.classList.toggle("active", p.id === id);
  const button = document.querySelector(`#tabs [data-pane="${id}"]`);
  if (button && button.onShow) button.onShow();
}
function removeTab(id) {
  const button = document.querySelector(`#tabs [data-pane="${id}"]`);
  if (button) button.remove();
  const pane = $(id);
  if (pane) pane.remove();
  show("pane-files");
}

// --- the lab ---------------------------------------------------------------------------
async function loadLab() {
  const lab = state.lab = await api("api/lab");
  $("lab-name").textContent = `lab ${lab.lab} (${lab.prefix || "not running"})`;
  const hosts = new Set(lab.hosts.map((h) => h.name));
  for (const h of lab.hosts) $("capture-host").append(el("option", {value: h.name, textContent: h.name}));
  const box = $("topology");
  try {
    const text = await api("api/topology.svg");
    const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
    box.append(document.importNode(svg, true));
    for (const node of box.querySelectorAll("g.node")) {
      const name = node.querySelector("title")?.textContent;
      if (hosts.has(name)) node.dataset.host = name;
    }
  } catch (e) {  // no Graphviz: the hosts by LAN
    const list = el("div", {className: "lan-list"});
    for (const lan of lab.lans) {
      const row = el("div", {}, el("b", {textContent: `${lan.name} ${lan.subnet}: `}));
      for (const h of lab.hosts.filter((x) => lan.name in x.lans)) {
        const b = el("button", {textContent: h.name, title: `${h.role} ${h.lans[lan.name]} (${h.state})`});
        b.dataset.host = h.name;
        row.append(b);
      }
      list.append(row);
    }
    box.append(list, el("div", {className: "note", textContent: e.message}));
  }
  box.addEventListener("click", (e) => {
    const target = e.target.closest("[data-host]");
    if (target) openTerminal(target.dataset.host, $("as-root").checked ? "root" : "student");
  });
}

// --- terminals -------------------------------------------------------------------------
function openTerminal(host, user) {
  const id = `pane-term-${host}-${user}-${Object.keys(state.terminals).length}`;
  const pane = el("div", {className: "pane", id});
  const screen = el("div", {className: "term"});
  const full = el("button", {textContent: "Full screen"});
  const info = el("span", {className: "note"});
  pane.append(el("div", {className: "toolbar"}, full, " ", info), screen);
  $("panes").append(pane);
  let term = null;  // opened once its pane shows: xterm measures its cells on open
  tab(id, `${host}${user === "root" ? " (root)" : ""}`, {
    closable: true,
    onShow: () => { if (term) { fit(); term.focus(); } },
    onClose: () => { ws.close(); term && term.destroy(); delete state.terminals[id]; removeTab(id); },
  });
  show(id);
  term = new Terminal({cursorBlink: true, fontSize: 13, scrollback: 5000});
  term.open(screen);
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${location.pathname.replace(/[^/]*$/, "")}api/terminal/${encodeURIComponent(host)}?user=${user}`
    + `&cols=${term.cols}&rows=${term.rows}`;
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const t = state.terminals[id] = {host, user, term, ws, recording: null, ended: false};
  const fit = () => {  // fit's guess is NaN until the renderer has measured a cell: keep the size then
    if (!pane.classList.contains("active")) return;
    const g = term.proposeGeometry();
    if (g && Number.isFinite(g.cols) && Number.isFinite(g.rows) && g.cols >= 2 && g.rows >= 1
        && (g.cols !== term.cols || g.rows !== term.rows)) term.resize(g.cols, g.rows);
  };
  const sendSize = () => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({type: "resize", cols: term.cols, rows: term.rows}));
  };
  ws.onopen = () => { info.textContent = `${user}@${host}`; fit(); sendSize(); term.focus(); };
  ws.onmessage = (m) => {
    if (typeof m.data === "string") {
      const msg = JSON.parse(m.data);
      if (msg.type === "recording") t.recording = msg.id;
      if (msg.type === "exit") { t.ended = true; info.textContent = `${user}@${host}: ended (exit ${msg.code})`; }
      return;
    }
    term.write(decoder.decode(new Uint8Array(m.data), {stream: true}));
  };
  ws.onclose = () => { if (!t.ended) info.textContent = `${user}@${host}: disconnected`; loadRecordings(); };
  term.on("data", (d) => { if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(d)); });
  term.on("resize", sendSize);
  new ResizeObserver(fit).observe(screen);
  full.addEventListener("click", () => { pane.classList.toggle("fullscreen"); fit(); term.focus(); });
  return id;
}
// The text on a terminal's screen (what the tests read back).
state.screenText = (term) => { term.selectAll(); const s = term.getSelection(); term.clearSelection(); return s; };

// --- the workspace -----------------------------------------------------------------------
async function loadTree() {
  const {files} = await api("api/files");
  const tree = $("tree");
  tree.textContent = "";
  for (const f of files) {
    const depth = f.path.split("/").length - 1;
    const li = el("li", {className: f.kind, textContent: "  ".repeat(depth) + f.path.split("/").pop()
      + (f.kind === "folder" ? "/" : "")});
    li.dataset.path = f.path;
    if (f.kind === "file") li.addEventListener("click", () => openFile(f.path));
    tree.append(li);
  }
}
async function openFile(path) {
  const text = await api(`api/files/${path.split("/").map(encodeURIComponent).join("/")}`);
  state.file = path;
  state.editor.setValue(text);
  state.editor.setOption("mode", path.endsWith(".py") ? "python" : null);
  $("file-name").textContent = path;
  $("save").disabled = false;
  $("save-state").textContent = "";
  show("pane-files");
  state.editor.refresh();
}
async function saveFile() {
  if (!state.file) return;
  $("save-state").textContent = "saving...";
  try {
    const r = await api(`api/files/${state.file.split("/").map(encodeURIComponent).join("/")}`,
      {method: "PUT", body: state.editor.getValue()});
    $("save-state").textContent = `saved (${r.size} bytes)`;
  } catch (e) { $("save-state").textContent = `not saved: ${e.message}`; }
}

// --- exercises and Check --------------------------------------------------------------------
async function loadExercises() {
  const list = await api("api/exercises");
  const select = $("exercise");
  const chosen = select.value;
  select.textContent = "";
  for (const x of list) select.append(el("option", {value: x.name, textContent: `${x.name} (${x.state})`}));
  if (chosen) select.value = chosen;
}
async function startExercise() {
  const name = $("exercise").value;
  try {
    const r = await api(`api/exercises/${name}`, {method: "POST"});
    $("exercise-state").textContent = `wrote ${r.wrote.join(", ") || "nothing"}; kept ${r.kept.join(", ") || "nothing"}`;
    await loadTree(); await loadExercises();
    show("pane-files");
  } catch (e) { $("exercise-state").textContent = e.message; }
}
function evidence(c) {
  const box = el("div", {className: `check ${c.ok ? "pass" : "fail"}`});
  box.dataset.check = c.name;
  box.append(el("span", {className: "tag", textContent: c.ok ? "PASS" : "FAIL"}), ` ${c.name} `,
    el("span", {className: "by", textContent: c.by === "reference" ? "(reference program)" : ""}));
  if (!c.ok) {
    for (const k of ["expected", "observed", "hint"]) {
      if (c[k]) box.append(el("div", {}, el("b", {textContent: `${k}: `}), c[k]));
    }
    for (const t of c.transcripts || []) {
      const state = t.exit_code === null ? "still running" : `exit status ${t.exit_code}`;
      const text = `$ ${t.argv.join(" ")}\n--- stdin\n${t.stdin}\n--- stdout\n${t.stdout}\n--- stderr\n${t.stderr}`
        + (t.notes.length ? `\n--- notes\n${t.notes.join("\n")}` : "");
      box.append(el("details", {}, el("summary", {textContent: `${t.program} (${state})`}), el("pre", {textContent: text})));
    }
    if (c.ladder) box.append(el("details", {open: true}, el("summary", {textContent: "the wire up to the failure"}),
      el("pre", {textContent: c.ladder})));
  }
  return box;
}
async function runCheck() {
  const name = $("exercise").value;
  tab("pane-check", "Check");
  show("pane-check");
  const live = $("check-live"), out = $("check-result");
  live.textContent = `checking ${name}...`;
  out.textContent = "";
  out.dataset.state = "running";
  const log = el("pre");
  out.append(log);
  try {
    const response = await fetch(`api/check/${name}?live=1`, {method: "POST", credentials: "same-origin"});
    if (!response.ok) throw new Error((await response.json()).error);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "", result = null;
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (msg.say !== undefined) log.textContent += msg.say + "\n";
        if (msg.error) throw new Error(msg.error);
        if (msg.result) result = msg.result;
      }
    }
    if (!result) throw new Error("the check ended without a result");
    live.textContent = "";
    out.textContent = "";
    out.append(el("p", {className: `summary ${result.passed ? "passed" : "failed"}`,
      textContent: `${result.exercise}: ${result.summary}`}));
    for (const c of result.checks) out.append(evidence(c));
    const seq = el("img", {alt: "the exchange as a sequence diagram"});
    seq.addEventListener("error", () => seq.remove());
    seq.src = `api/check/${name}/sequence.svg?t=${Date.now()}`;
    out.append(el("h3", {textContent: "The exchange"}), seq, el("details", {},
      el("summary", {textContent: "what the play said"}), log));
    out.dataset.state = result.passed ? "passed" : "failed";
  } catch (e) {
    live.textContent = `check failed to run: ${e.message}`;
    out.dataset.state = "error";
  }
  loadExercises();
}

// --- captures --------------------------------------------------------------------------
async function startCapture() {
  try {
    const r = await api("api/captures", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({host: $("capture-host").value, filter: $("capture-filter").value})});
    addCapture(r);
  } catch (e) { status(e.message); }
}
function addCapture(r) {
  const li = el("li", {textContent: `${r.host} ${r.filter || ""} `});
  const stop = el("button", {textContent: "Stop"});
  stop.addEventListener("click", async () => {
    stop.disabled = true;
    try {
      const done = await api(`api/captures/${r.id}/stop`, {method: "POST"});
      stop.remove();
      li.append(`${done.packets} packets `, el("a", {href: `api/captures/${r.id}/pcap`, textContent: "pcap"}));
      const view = $("capture-view");
      view.textContent = "";
      view.append(el("h3", {textContent: `Capture on ${r.host}: ${done.packets} packets`}), el("pre", {textContent: done.ladder}));
      if (done.packets) view.append(el("img", {src: `api/captures/${r.id}/sequence.svg`, alt: "sequence diagram"}));
      tab("pane-capture", "Capture");
      show("pane-capture");
    } catch (e) { status(e.message); stop.disabled = false; }
  });
  li.append(stop);
  $("captures").append(li);
}

// --- recordings ------------------------------------------------------------------------
async function loadRecordings() {
  const list = await api("api/recordings");
  const ul = $("recordings");
  ul.textContent = "";
  for (const r of list.slice(0, 30)) {
    const b = el("button", {textContent: "Replay"});
    b.dataset.recording = r.id;
    b.addEventListener("click", () => replay(r.id, r.title));
    ul.append(el("li", {}, `${r.title} ${new Date(r.started * 1000).toLocaleTimeString()} (${r.duration.toFixed(1)} s) `, b));
  }
}
async function replay(id, title) {
  tab("pane-replay", "Replay");
  show("pane-replay");
  $("replay-title").textContent = title || id;
  $("replay-state").textContent = "playing";
  try {
    const text = await api(`api/recordings/${id}`);
    state.replayText = text;
    if (!window.CastPlayer) await loadScript("/static/player.js");  // its first load was dropped
    state.replay = state.replay || new CastPlayer($("replay-screen"));
    const n = await state.replay.play(text);
    $("replay-state").textContent = `done (${n} events)`;
  } catch (e) {
    $("replay-state").textContent = `could not replay it: ${e.message}`;
  }
}

// --- start -----------------------------------------------------------------------------
window.addEventListener("load", async () => {
  tab("pane-files", "Files");
  show("pane-files");
  state.editor = CodeMirror($("editor"), {mode: "python", lineNumbers: true, matchBrackets: true, indentUnit: 4,
    extraKeys: {"Ctrl-S": saveFile, "Tab": (cm) => cm.replaceSelection("    ")}});
  $("save").addEventListener("click", saveFile);
  $("start-exercise").addEventListener("click", startExercise);
  $("check").addEventListener("click", runCheck);
  $("capture-start").addEventListener("click", startCapture);
  $("recordings-refresh").addEventListener("click", loadRecordings);
  $("replay-again").addEventListener("click", () => state.replayText && state.replay.play(state.replayText));
  try {
    await Promise.all([loadLab(), loadTree(), loadExercises(), loadRecordings()]);
    document.body.dataset.ready = "yes";
  } catch (e) { status(e.message); document.body.dataset.ready = "error"; }
});
