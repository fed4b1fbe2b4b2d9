"""The page's terminal and editor, from Debian's packages (never a CDN: the page works with
no internet).

- CodeMirror 5 (``libjs-codemirror``): served as the package ships it, from
  /usr/share/javascript/codemirror (lib, Python mode, bracket matching).
- xterm.js 3.8 (``node-xterm`` and ``libjs-xterm``): bookworm's browser file
  /usr/share/javascript/xterm/xterm.js is a 288-byte stub that only says
  ``require("./public/Terminal")`` and cannot load in a page. The real code is in
  ``node-xterm`` as CommonJS modules (lib/*.js, relative requires only), so the server joins
  them into one script at start, each module in a function with its own ``module``,
  ``exports`` and ``require``, as browserify would; the fit add-on (libjs-xterm's) is one
  more module. The result sets ``window.Terminal``.
"""

from __future__ import annotations

import functools
import json
import posixpath
from pathlib import Path

from lab.errors import ToolMissingError

XTERM_LIB = Path("/usr/share/nodejs/xterm/lib")
XTERM_BROWSER = Path("/usr/share/javascript/xterm")
CODEMIRROR = Path("/usr/share/javascript/codemirror")
INSTALL = "apt-get install node-xterm libjs-xterm libjs-codemirror"

# url under /vendor/ -> file (the CSS and CodeMirror as shipped)
FILES = {"xterm.css": XTERM_BROWSER / "xterm.css",
         "codemirror.js": CODEMIRROR / "lib" / "codemirror.js",
         "codemirror.css": CODEMIRROR / "lib" / "codemirror.css",
         "python.js": CODEMIRROR / "mode" / "python" / "python.js",
         "matchbrackets.js": CODEMIRROR / "addon" / "edit" / "matchbrackets.js"}

PRELUDE = """(function () {
var defined = {}, cache = {};
function resolve(from, name) {
  var parts = from.split("/").slice(0, -1).concat(name.split("/")), out = [];
  parts.forEach(function (p) { if (p === "..") out.pop(); else if (p !== "." && p !== "") out.push(p); });
  var id = out.join("/");
  return defined[id] ? id : id + "/index";
}
function load(id) {
  if (cache[id]) return cache[id].exports;
  if (!defined[id]) throw new Error("xterm bundle: no module " + id);
  var module = cache[id] = {exports: {}};
  defined[id](module, module.exports, function (name) { return load(resolve(id, name)); });
  return module.exports;
}
"""

EPILOGUE = """var Terminal = load("public/Terminal").Terminal;
Terminal.applyAddon(load("addons/fit/fit"));
window.Terminal = Terminal;
})();
"""


def missing() -> list[str]:
    """The packaged files this machine lacks (none: the page has its terminal and editor)."""
    wanted = [*FILES.values(), XTERM_LIB / "public" / "Terminal.js", XTERM_BROWSER / "addons" / "fit" / "fit.js"]
    return [str(p) for p in wanted if not p.is_file()]


def check() -> None:
    gone = missing()
    if gone:
        raise ToolMissingError("xterm.js and CodeMirror", INSTALL, f"give the page its terminals and editor "
                               f"({', '.join(gone[:2])} missing)")


@functools.cache
def xterm_bundle() -> bytes:
    """xterm.js from node-xterm's CommonJS modules and libjs-xterm's fit add-on, as one script."""
    modules = {p.relative_to(XTERM_LIB).with_suffix("").as_posix(): p for p in sorted(XTERM_LIB.rglob("*.js"))
               if not p.name.endswith(".test.js") and "/test" not in p.as_posix()}
    modules["addons/fit/fit"] = XTERM_BROWSER / "addons" / "fit" / "fit.js"
    out = [PRELUDE]
    for module_id, path in modules.items():
        source = path.read_text(encoding="utf-8")
        source = source.split("\n//# sourceMappingURL=")[0]
        out.append(f"defined[{json.dumps(posixpath.normpath(module_id))}] = function (module, exports, require) {{\n"
                   f"{source}\n}};\n")
    out.append(EPILOGUE)
    return "".join(out).encode()
