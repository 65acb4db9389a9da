"""The REST channel (`/webhooks/rest/webhook`), hardened against bad input.

Rasa's own REST channel answers malformed JSON or a missing field with a 500. This one
validates first: a clear 4xx for requests that are not a message, a friendly reply for
messages with nothing in them, and control characters removed before NLU sees the text.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 10_000
MAX_SENDER_CHARS = 128
_CONTROL = re.compile(
    r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\ufeff]"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
EMPTY_REPLY = "我在听哦，想说什么都可以。/ I'm listening — say anything you like."


class BadRequest(ValueError):
    """A request that is not a usable message; the text says why (for the 4xx body)."""


# What a button sends: `/intent`, `/retrieval/key`, optionally `{json entities}`.
_INTENT_PAYLOAD = re.compile(r"^/[a-z_]+(/[a-z_]+)?(\{.*\})?$", re.DOTALL)


def clean_text(text: str) -> str:
    """Remove control characters; a typed leading "/" that is no button payload is dropped,
    since Rasa would read the message as an intent and skip NLU (and the risk detector)."""
    text = _CONTROL.sub("", _ANSI.sub("", text))
    stripped = text.strip()
    if stripped.startswith("/") and not _INTENT_PAYLOAD.match(stripped):
        text = stripped.lstrip("/")
    return text


def parse_request(body: bytes) -> tuple[str, str, Optional[dict[str, Any]]]:
    """(sender, message, metadata) from a request body, or BadRequest."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest('body must be JSON: {"sender": "…", "message": "…"}') from error
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    sender, message = data.get("sender"), data.get("message")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} chars")
    if not isinstance(message, str):
        raise BadRequest("'message' must be a string")
    if len(message) > MAX_MESSAGE_CHARS:
        raise BadRequest(f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
    metadata = data.get("metadata")
    return sender.strip(), clean_text(message), metadata if isinstance(metadata, dict) else None


class SafeRestInput(RestInput):
    """Rasa's REST channel with input validation; same name, same URL."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("peiban_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, metadata = parse_request(request.body or b"")
            except BadRequest as error:
                status = 413 if "longer" in str(error) else 400
                return response.json({"error": str(error)}, status=status)
            if not text.strip():
                return response.json([{"recipient_id": sender, "text": EMPTY_REPLY}])
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text, collector, sender, input_channel=self.name(), metadata=metadata
                    )
                )
            except Exception:
                logger.exception("message from %s failed", sender)
                return response.json(
                    {"error": "temporarily unavailable, please send again"}, status=503
                )
            return response.json(collector.messages)

        return webhook


__all__ = ["SafeRestInput", "parse_request", "clean_text"]
