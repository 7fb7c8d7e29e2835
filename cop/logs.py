"""Logging set-up for every process: UTC timestamps, one line per event, the process role.

`COP_LOG_FORMAT=json` writes one JSON object per line (time, level, role, logger, message and
exception) for log collectors; the default is a readable text line.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import orjson


class JsonFormatter(logging.Formatter):
    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "role": self.role,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure(level: str, role: str, fmt: str = "text") -> None:
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter(role)
    else:
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
