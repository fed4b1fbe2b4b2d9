// The instructor's page: every student's lab (state, last activity, last check of each
// exercise), a link to their page (terminals read-only there, recordings replayable), and
// grading from the workspaces with its outputs to download.
"use strict";
function ago(t) {
  const s = Math.max(0, Date.now() / 1000 - t);
  return s < 90 ? `${Math.round(s)} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

async function refresh() {
  const c = await api("/class/api/students");
  $("summary").textContent = `${c.students.filter((s) => s.state === "running").length} of at most ${c.capacity} labs running; ${c.queue.length} waiting`;
  $("columns").replaceChildren(...["student", "name", "lab", "last activity", ...c.exercises, ""].map((h) => el("th", {textContent: h})));
  const rows = c.students.map((s) => el("tr", {},
    el("td", {textContent: s.student}), el("td", {textContent: s.name}),
    el("td", {textContent: s.state + (s.error ? ` (${s.error})` : ""), className: `state ${s.state}`}),
    el("td", {textContent: ago(s.last)}),
    ...c.exercises.map((e) => {
      const r = s.checks[e];
      return el("td", {textContent: r ? (r.passed ? "✔" : "✘") : "", title: r ? `${r.summary} (${ago(r.at)})` : ""});
    }),
    el("td", {}, el("a", {href: `/lab/${encodeURIComponent(s.student)}/`, textContent: "open (read-only)"}))));
  document.querySelector("#students tbody").replaceChildren(...rows);
  if (!$("exercise").options.length) {
    $("exercise").replaceChildren(...c.exercises.map((e) => el("option", {value: e, textContent: e})));
  }
}

async function grading(exercise) {
  const g = await api(`/class/api/grades/${exercise}`);
  $("said").textContent = g.said.join("\n");
  const links = g.files.map((f) => el("a", {href: `/class/api/grades/${exercise}/${f}`, textContent: f}));
  $("graded").replaceChildren(`${g.state}${g.error ? ": " + g.error : ""} `, ...links.flatMap((a) => [a, " "]));
  if (g.state === "running") setTimeout(() => grading(exercise), 2000);
}

$("grade").addEventListener("click", async () => {
  const exercise = $("exercise").value;
  try { await api(`/class/api/grades/${exercise}`, {method: "POST"}); } catch (e) { $("graded").textContent = e.message; }
  grading(exercise);
});
$("exercise").addEventListener("change", () => grading($("exercise").value));
refresh().then(() => grading($("exercise").value));
setInterval(refresh, 5000);
