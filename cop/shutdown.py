"""Two-stage shutdown shared by the hub and the feed workers (the dramatiq pattern).

The first SIGTERM (or SIGINT) asks the loop to finish its batch and exit 0; a second one exits
at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

log = logging.getLogger(__name__)


class Shutdown:
    """A flag the worker loop polls; installs the signal handlers on `install()`."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signals = 0

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def request(self) -> None:
        self.event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early on shutdown; True if shutdown was requested."""
        return self.event.wait(seconds)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signals += 1
        if self.signals == 1:
            log.info("signal %s: finishing the current batch, then exiting", signum)
            self.event.set()
        else:
            log.warning("signal %s again: exiting at once", signum)
            os._exit(1)

    def install(self) -> Shutdown:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        return self
