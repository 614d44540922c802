"""The service's log records: one line each, human-readable or JSON, tagged with the request.

``notes serve`` hands ``server_log_config()`` to uvicorn, which applies it in every process
(the supervisor and each worker). Records carry structured fields as attributes (``extra=``):
the formatters put each field present in ``FIELDS`` on the line, and ``RequestIdFilter``
gives every record made while a request is handled that request's id, so a line from deep
in the service can be matched to the request line.

What goes into a record is chosen where it is made: the request line holds method, route
template, status, duration and ids, never a body, a header value other than the request id,
or a query string, so passwords, tokens and note contents do not reach the logs.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final

from entrypoints.settings import LogFormat, LogLevel

__all__ = [
    "FIELDS",
    "JsonFormatter",
    "RequestIdFilter",
    "TextFormatter",
    "current_request_id",
    "server_log_config",
]

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
"""The id of the request being handled in this context, ``None`` outside any request."""

FIELDS: Final = ("request_id", "method", "route", "status", "duration_ms", "user_id", "error")
"""The structured fields a record may carry, in the order lines show them."""

# uvicorn's own loggers and the service's; everything else reaches the root logger.
_LOGGERS: Final = ("uvicorn", "uvicorn.error", "entrypoints", "adapters")


class RequestIdFilter(logging.Filter):
    """Tag each record with the id of the request it was made for, unless it has one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = current_request_id.get()
            if request_id is not None:
                record.request_id = request_id
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    values = {name: getattr(record, name, None) for name in FIELDS}
    return {name: value for name, value in values.items() if value is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    the fields present, and ``traceback`` when the record carries an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger message key=value…``, then the traceback on the lines below."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        fields = _fields(record)
        for name in ("method", "route", "status"):
            # Already the message of a request line.
            fields.pop(name, None)
        return " ".join([text, *(f"{name}={value}" for name, value in fields.items())])


def server_log_config(level: LogLevel, log_format: LogFormat) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document for uvicorn: the service's and uvicorn's
    loggers at ``level`` to standard error in ``log_format``, other libraries' at warning.

    Uvicorn's access log is left out: the service writes its own line per request, with the
    route template, the request id and the user (see ``entrypoints.http.middleware``).
    """
    handler = {
        "class": "logging.StreamHandler",
        "formatter": log_format,
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"text": {"()": TextFormatter}, "json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            **{
                name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
                for name in _LOGGERS
            },
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
