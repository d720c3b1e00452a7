"""A real Chromium for crawls through crawl4ai's browser strategy, started the way crawl4ai
connects to a browser it did not launch: over CDP (``BrowserConfig(cdp_url=...)``).

Playwright's bundled browser cannot be downloaded here; Debian's ``chromium`` is installed by the
``chromium`` recipe of the justfile, which ``just test`` depends on. The browser listens on
127.0.0.1 with an ephemeral port and a new, empty profile.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0")
START_TIMEOUT = 60.0


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """One headless Chromium; :attr:`cdp_url` is its DevTools WebSocket."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="c4t-chromium-")
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.cdp_url = self._read_cdp_url()

    def _read_cdp_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        assert self.process.stderr is not None
        for _ in range(10_000):
            if time.monotonic() > deadline:
                break
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            if match:
                # Keep reading stderr so a chatty browser never blocks on a full pipe.
                import threading

                threading.Thread(target=self.process.stderr.read, daemon=True).start()
                return match.group(1)
        self.close()
        raise RuntimeError("Chromium did not start")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)
