// The page that waits for a student's lab: its state, the place in the queue and the
// estimated wait; the lab's own page once it runs. Polls api/state (relative: this lab's).
"use strict";
const said = document.getElementById("said");
const start = document.getElementById("start");

function minutes(seconds) {
  return seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

async function look() {
  const response = await fetch("api/state", {credentials: "same-origin"});
  const s = await response.json();
  if (!response.ok) { said.textContent = s.error; return; }
  document.getElementById("student").textContent = s.student;
  document.body.dataset.state = s.state;
  start.hidden = !(s.state === "stopped" || s.state === "failed");
  if (s.state === "running") { location.reload(); return; }
  if (s.state === "queued") {
    const wait = s.estimate === null ? "no estimate yet" : `about ${minutes(s.estimate)}, if the labs ahead stay idle`;
    said.textContent = `The server is full: you are number ${s.position} in the queue (${wait}).`;
  } else if (s.state === "starting") {
    said.textContent = "Your lab is starting…";
  } else if (s.state === "failed") {
    said.textContent = `Your lab did not start: ${s.error}`;
  } else if (s.state === "stopping") {
    said.textContent = "Your lab is stopping (it was idle); it starts again right after.";
  } else {
    said.textContent = s.instructor ? "This lab is stopped." : "Your lab is stopped.";
  }
  setTimeout(look, 2000);
}

start.addEventListener("click", async () => {
  await fetch("api/start", {method: "POST", credentials: "same-origin"});
  look();
});
look();
