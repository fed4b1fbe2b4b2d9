// A small asciicast v2 player: each event fed to an xterm at its time.
// Output ("o") is written, a resize ("r", "COLSxROWS") resizes; pauses longer than
// maxPause seconds are cut to it, as `asciinema play -i` does.
"use strict";
window.CastPlayer = class CastPlayer {
  constructor(element, {maxPause = 1.0, speed = 1.0} = {}) {
    this.element = element;
    this.maxPause = maxPause;
    this.speed = speed;
    this.term = null;
    this.timer = null;
  }

  static parse(text) {
    const lines = text.split("\n").filter((l) => l.trim());
    const header = JSON.parse(lines[0]);
    if (header.version !== 2) throw new Error("not an asciicast v2 file");
    const events = [];
    for (const [i, l] of lines.slice(1).entries()) {
      try {
        events.push(JSON.parse(l));
      } catch (e) {  // a session still being recorded may end in half a line: play what came before
        if (i < lines.length - 2) throw e;
      }
    }
    return {header, events};
  }

  // Plays the cast; resolves when its last event has been shown.
  play(text) {
    this.stop();
    const {header, events} = CastPlayer.parse(text);
    this.element.textContent = "";
    this.term = new Terminal({cols: header.width || 80, rows: header.height || 24, convertEol: false});
    this.term.open(this.element);
    const start = performance.now();
    let at = 0, last = 0, i = 0;
    return new Promise((resolve) => {
      const step = () => {
        while (i < events.length) {
          const [time, kind, data] = events[i];
          const due = at + Math.min(time - last, this.maxPause) / this.speed;
          if ((performance.now() - start) / 1000 < due) {
            this.timer = setTimeout(step, Math.max(0, due * 1000 - (performance.now() - start)));
            return;
          }
          at = due; last = time; i += 1;
          if (kind === "o") this.term.write(data);
          else if (kind === "r") {
            const [c, r] = data.split("x").map(Number);
            if (c > 0 && r > 0) this.term.resize(c, r);
          }
        }
        this.timer = null;
        resolve(events.length);
      };
      step();
    });
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.term) this.term.destroy();
    this.term = null;
  }
};
