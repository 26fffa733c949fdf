"""The server's log lines: one JSON object per line, with every `extra` its call passed.

A whitelist of extras silently drops whatever a new log call adds (the audit writer's
`records` was lost that way); here an extra is any attribute a plain `LogRecord` does
not have. What may carry data is never formatted: an exception is named by its type
only, as every log call of the platform names them, never by its message or traceback
(either may quote a value). `time`, `level`, `logger` and `message` are the line's
own: an extra of one of those names is not shown.
"""

from __future__ import annotations

import json
import logging
from typing import Any

STANDARD = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None))) | {
    "message",  # set by logging.Formatter.format from msg and args
    "asctime",  # likewise, when a format names it
    "color_message",  # uvicorn's coloured copy of the message
}
"""Attributes every record has, or that only restate its message."""


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in STANDARD:
                line.setdefault(name, value)
        if record.exc_info and record.exc_info[0] is not None:
            line.setdefault("error", record.exc_info[0].__name__)
        try:
            return json.dumps(line, ensure_ascii=False, allow_nan=False, default=_plain)
        except (TypeError, ValueError):  # NaN, or a mapping keyed by what JSON cannot key by
            as_text = {name: v if isinstance(v, str) else _plain(v) for name, v in line.items()}
            return json.dumps(as_text, ensure_ascii=False)


def _plain(value: object) -> str:
    """What JSON cannot carry, as text; an exception as its type, never its message."""
    if isinstance(value, BaseException):
        return type(value).__name__
    return str(value)


def log_as_json() -> None:
    """The server's logging, in its process and in each of its workers (`workers.py`)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
