"""Structured logs: one JSON object per line, with the process role and the exception."""

from __future__ import annotations

import io
import logging

import orjson

from cop.logs import configure


def test_json_lines_carry_role_level_message_and_exception():
    configure("INFO", "hub", "json")
    stream = io.StringIO()
    logging.getLogger().handlers[0].setStream(stream)
    log = logging.getLogger("cop.test")
    log.info("applied %d entries", 42)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    first, second = (orjson.loads(line) for line in stream.getvalue().splitlines())
    assert (first["role"], first["level"], first["logger"], first["message"]) == (
        "hub",
        "INFO",
        "cop.test",
        "applied 42 entries",
    )
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]
    configure("WARNING", "test")
