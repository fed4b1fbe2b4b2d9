"""The optional programs pictures and reports (and a test) use, each with how to install it.

socklab runs without them: a report says which picture it left out and why, and the tests
that need one are skipped with its name (tests/conftest.py's ``needs`` marker).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from lab.errors import ToolMissingError


@dataclass(frozen=True)
class Tool:
    title: str  # as a person knows it
    commands: tuple[str, ...]  # any one of them will do
    install: str
    used_for: str

    def find(self) -> str:
        """The first of ``commands`` on PATH, else ToolMissingError naming the tool."""
        for name in self.commands:
            if shutil.which(name):
                return name
        raise ToolMissingError(self.title, self.install, self.used_for)

    def installed(self) -> bool:
        return any(shutil.which(name) for name in self.commands)


DOT = Tool("Graphviz's `dot`", ("dot",), "apt-get install graphviz", "draws the lab's topology")
CHROMIUM = Tool("Chromium", ("chromium", "chromium-browser", "google-chrome"), "apt-get install chromium",
                "opens a report as a person would")
PLAYWRIGHT = Tool("Playwright", ("playwright",), "pip install playwright (never `playwright install`: it downloads a "
                  "browser; Debian's Chromium is used)", "drives Chromium through the web page")
OPENSSL = Tool("OpenSSL's `openssl`", ("openssl",), "apt-get install openssl",
               "makes a throwaway certificate to test `invoke serve` over HTTPS")
TOOLS = {"dot": DOT, "chromium": CHROMIUM, "playwright": PLAYWRIGHT, "openssl": OPENSSL}
