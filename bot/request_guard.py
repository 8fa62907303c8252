"""The WSGI front of POST /slack/events: refuse what Slack would never send, then hand the
request to Bolt already parsed.

Why not Bolt's own WSGI adapter alone: Bolt parses the body after checking the signature but
outside its error handling, so a signed request with a broken `payload` (bad JSON, a list where
an object belongs, actions without an action_id) came back as a 500 from waitress. And Bolt's
parser treats any form body containing the letters "payload" as an interactivity payload, so
`/campaign payload` (or a user name with those letters) was dispatched as an empty body and
answered 404, leaving the texter with Slack's "dispatch_failed" and no reply.

Here, in order: the body size (413), the signature and timestamp (401, like Bolt), the content
type (415), then the body is parsed and the fields the listeners rely on are checked (400).
Only then does Bolt see the request, with the body we parsed (`ParsedBoltRequest`). Bolt checks
the signature again; that costs one HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context

from core.ascii_digits import parse_ascii_digits

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("spokebot.web")

# Slack's largest payloads are Home-tab clicks carrying the whole view (at most 250 KB of
# blocks) plus its state; 1 MiB leaves room and keeps a flood of huge bodies cheap to refuse.
MAX_BODY_BYTES = 1024 * 1024
MAX_REQUEST_AGE_SECONDS = 5 * 60  # as Slack's docs and Bolt's verifier
# Past these a header is malformed, not merely too large or too old.
MAX_CONTENT_LENGTH = 2**63 - 1
MAX_TIMESTAMP = 2**63 - 1
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ParsedBoltRequest(BoltRequest):
    """A BoltRequest whose body was parsed (and checked) by the guard. Lazy listeners get a
    copy through to_copyable(), which in Bolt re-parses the raw body; here it keeps ours."""

    def __init__(
        self,
        *,
        raw_body: str,
        parsed: dict[str, Any],
        query: str | dict[str, Any],
        headers: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> None:
        # Bolt's constructor parses raw_body; give it "" and set the real fields afterwards.
        super().__init__(body="", query=query, headers=headers, context=context)
        self.raw_body = raw_body
        self.body = parsed
        self.context = build_context(self.context, parsed)

    def to_copyable(self) -> ParsedBoltRequest:
        return _OwnCopy(
            raw_body=self.raw_body,
            parsed=json.loads(json.dumps(self.body)),  # a deep copy of plain JSON data
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
        )


class _OwnCopy(ParsedBoltRequest):
    """What to_copyable gives Bolt for a lazy listener: a copy already (the body through
    JSON, the context through Bolt's own to_copyable), which Bolt then deep-copies again,
    Web client and all; that second copy was the largest CPU cost of an ack. The durable
    inbox only reads the copy's body, mode and team."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _OwnCopy:
        return self


class SlackRequestGuard:
    """The WSGI application for Slack's requests (commands, interactivity, events)."""

    def __init__(
        self,
        app: App,
        signing_secret: str,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        clock: Callable[[], float] = time.time,
        inbox: Callable[[dict[str, Any], str], bool] | None = None,
    ) -> None:
        self.app = app
        # bot.inbox: records work to do after the ack before acking (True: recorded).
        self.inbox = inbox
        self._secret = signing_secret.encode()
        self.max_body_bytes = max_body_bytes
        self._clock = clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            raw = self._read_body(environ)
            headers = _headers(environ)
            content_type = _content_type(headers)
            if _is_ssl_check(raw, content_type):
                parsed: dict[str, Any] = dict(parse_qsl(raw.decode("utf-8", "replace")))
            else:
                self._verify(raw, headers)
                parsed = _parse(raw, content_type)
                _check_shape(parsed)
        except Refused as refused:
            # No body text, headers or secrets in the log: the reason is one of ours.
            log.warning("refused a Slack request: %s %s", refused.status, refused.reason)
            return _answer(start_response, refused.status, {"error": refused.reason})
        if self.inbox is not None:
            try:
                recorded = self.inbox(parsed, raw.decode("utf-8"))
            except Exception as error:  # not recorded: no 200, so Slack delivers it again
                log.warning("could not record a Slack request (%s): 503", type(error).__name__)
                return _answer(start_response, 503, {"error": "try again"})
            if recorded:
                return _answer(start_response, 200, {})
        request = ParsedBoltRequest(
            raw_body=raw.decode("utf-8"),
            parsed=parsed,
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
        )
        try:
            response = self.app.dispatch(request)
        except Exception:  # logged with a reference; the caller sees no internals
            reference = uuid.uuid4().hex[:8]
            log.exception("Bolt failed on a Slack request (reference %s)", reference)
            return _answer(start_response, 500, {"error": f"internal error ({reference})"})
        return _wsgi_response(start_response, response)

    def _read_body(self, environ: WSGIEnvironment) -> bytes:
        length = parse_ascii_digits(environ.get("CONTENT_LENGTH") or "0", MAX_CONTENT_LENGTH)
        if length is None:
            raise Refused(400, "bad Content-Length")
        if length > self.max_body_bytes:
            raise Refused(413, "body too large")
        stream = environ.get("wsgi.input")
        return stream.read(length) if stream is not None and length else b""

    def _verify(self, raw: bytes, headers: dict[str, str]) -> None:
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        seconds = parse_ascii_digits(timestamp, MAX_TIMESTAMP)
        if seconds is None or not signature:
            raise Refused(401, "invalid request")
        if abs(self._clock() - seconds) > MAX_REQUEST_AGE_SECONDS:
            raise Refused(401, "invalid request")
        digest = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
        if not hmac.compare_digest("v0=" + digest.hexdigest(), signature):
            raise Refused(401, "invalid request")


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            headers[key.lower().replace("_", "-")] = str(value)
        elif key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = str(value)
    return headers


def _content_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _is_ssl_check(raw: bytes, content_type: str) -> bool:
    """Slack's certificate check (`ssl_check=1`) is unsigned; Bolt answers it with 200."""
    return content_type == FORM and raw.startswith(b"ssl_check=1") and b"command=" not in raw


def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
    if content_type not in (FORM, JSON):
        raise Refused(415, "Slack sends form-encoded or JSON bodies only")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if not text:
        raise Refused(400, "empty body")
    if content_type == JSON:
        return _json_object(text, "body")
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        return _json_object(fields["payload"], "payload")
    return fields


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")
    try:
        # JSON may spell lone surrogates ("\\ud800"), which no UTF-8 text holds and which
        # break the first .encode() or database driver that meets them. Slack never sends them.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(400, f"{what} is not valid Unicode") from None
    return value


def _check_shape(body: dict[str, Any]) -> None:
    """The fields listeners read must have the types Slack gives them."""
    if "command" in body:
        for name in ("command", "user_id", "team_id"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise Refused(400, f"slash command without {name}")
        return
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise Refused(400, "no type")
    for name in ("user", "container", "view", "channel", "message", "state"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise Refused(400, f"{name} is not an object")
    user = body.get("user")
    if user is not None and not all(isinstance(user.get(k, ""), str) for k in ("id", "team_id")):
        raise Refused(400, "user id is not a string")
    if body.get("team") is not None and not isinstance(body["team"], dict):
        raise Refused(400, "team is not an object")
    if kind == "event_callback" and not isinstance(body.get("event"), dict):
        raise Refused(400, "event_callback without an event object")
    if kind == "event_callback" and not isinstance(body["event"].get("type"), str):
        raise Refused(400, "event without a type")
    if kind in ("block_actions", "view_submission", "view_closed", "shortcut", "message_action"):
        user = body.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
            raise Refused(400, f"{kind} without a user id")
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            raise Refused(400, "block_actions without actions")
        for action in actions:
            if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
                raise Refused(400, "an action without an action_id")
    if body.get("response_url") is not None and not isinstance(body["response_url"], str):
        raise Refused(400, "response_url is not a string")


def _answer(start_response: StartResponse, status: int, body: dict[str, str]) -> Iterable[bytes]:
    response = WsgiHttpResponse(
        status=status,
        headers={"content-type": ["application/json;charset=utf-8"]},
        body=json.dumps(body),
    )
    start_response(response.status, response.get_headers())
    return response.get_body()


def _wsgi_response(start_response: StartResponse, response: BoltResponse) -> Iterable[bytes]:
    wsgi = WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
    start_response(wsgi.status, wsgi.get_headers())
    return wsgi.get_body()
