"""Logging set-up for every process: UTC timestamps, one line per event, the process role."""

from __future__ import annotations

import logging
import time


def configure(level: str, role: str) -> None:
    formatter = logging.Formatter(
        fmt=f"%(asctime)s.%(msecs)03dZ %(levelname)s {role} %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("werkzeug", "engineio.server", "socketio.server", "geventwebsocket"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
