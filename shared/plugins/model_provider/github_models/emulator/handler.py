"""The request pipeline of the emulator: route, record, check, answer.

Order of checks, as the real service applied them: mode (retired/deprecated), credentials,
organization policy, scripted errors (served as is), model id, model allow-list, body
validation, rate limits, per-request token caps, scripted faults (they act where the model would,
after admission), then the reply (scripted, else the deterministic default).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from . import embeddings as emb
from .call import ERROR_KINDS, V1_PREFIX, Call, PrefixRoutes
from .faults import STREAM_FAULTS, StreamAborted, abort, write_half_body, write_stream
from .model_habits import PromptCache, with_model_habits
from .models import ModelEntry, ModelIndex
from .policy import Denial, check_model_allowed, check_org, check_token, extract_token
from .replies import Plan, Reply, default_plan, estimate_prompt_tokens, plan_from_reply
from .state import EmulatorState, RateLimitHit, redact_request
from .validation import validate
from .wire import (
    DEPRECATED_HEADERS,
    LEGACY_HEADERS,
    MODEL_FORMAT_MESSAGE,
    RETIRED_BODY,
    completion_body,
    github_error,
    openai_error,
    stream_payloads,
)

__all__ = ["HandlerConfig", "RequestHandler"]

_FOUNDRY = "/models/chat/completions"  # Azure AI model inference (Microsoft Foundry)
_INFERENCE = frozenset({"/inference/chat/completions", "/inference/v1/chat/completions", _FOUNDRY})
_LEGACY = "/chat/completions"
_CATALOG = "/catalog/models"
_MODELS_V1 = "/v1/models"
_ORG_TAILS = (("inference", "chat", "completions"), ("inference", "v1", "chat", "completions"),
              ("inference", "embeddings"))
# Foundry's v1 embeddings (model = deployment name) arrive through v1.py, flagged ``v1``
_EMBEDDINGS = frozenset({"/inference/embeddings", "/models/embeddings"})
_CONTENT_KINDS = frozenset({"text", "tool_calls"})
# Advisory headers as the live service sent them on 200s (not the enforced limits).
_ADVISORY = (
    ("x-ratelimit-limit-requests", "20000"),
    ("x-ratelimit-remaining-requests", "19999"),
    ("x-ratelimit-limit-tokens", "2000000"),
    ("x-ratelimit-renewalperiod-requests", "60"),
    ("x-ratelimit-renewalperiod-tokens", "60"),
    ("x-ratelimit-reset-requests", "3"),
    ("x-ratelimit-reset-tokens", "1"),
)


@dataclass(slots=True)
class HandlerConfig:
    """Per-emulator response settings (tests may change them between requests)."""

    stream_style: str
    error_content_type: str
    unknown_model_status: int
    instance: int


class RequestHandler:
    """The aiohttp low-level handler: one coroutine per request."""

    def __init__(
        self,
        state: EmulatorState,
        index: Callable[[], ModelIndex],
        config: HandlerConfig,
        stopping: asyncio.Event,
        v1: Callable[[RequestHandler], PrefixRoutes],
    ) -> None:
        self._state = state
        self._index = index
        self._cfg = config
        self._stopping = stopping
        self._prompt_cache = PromptCache()
        self._v1 = v1(self)  # v1.V1Routes: the server hands it in (v1.py sits above this)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        """Handle one request."""
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        headers = {k.lower(): v for k, v in request.headers.items()}
        state = self._state
        state.record(redact_request(request.method, request.path, request.query, headers, body,
                                    len(raw), state.known_tokens()))
        serial = state.next_serial()
        rid = f"E{self._cfg.instance:03X}:{serial:07X}"
        path = request.path
        if path.startswith(V1_PREFIX):  # Foundry's OpenAI v1 route (v1.py): not GitHub's modes
            return await self._v1.handle(request, rid, body, headers)
        if state.mode == "retired":  # every models.github.ai path answered 410 after 2026-07-30
            return self._error(410, RETIRED_BODY, rid, path == _LEGACY)
        if path == _MODELS_V1:
            return self._models_v1(request, rid)
        if path in _INFERENCE or path in _EMBEDDINGS:
            org = None
        elif path == _LEGACY:
            org = ""
        elif path == _CATALOG:
            return self._catalog(request, rid)
        else:
            parts = tuple(path.strip("/").split("/"))
            if len(parts) < 4 or parts[0] != "orgs" or parts[2:] not in _ORG_TAILS:
                return self._error(404, github_error("not_found", "Not Found"), rid, False)
            org = parts[1]
        legacy = org == ""
        if request.method != "POST":
            return self._error(
                405, github_error("method_not_allowed", "Method Not Allowed"), rid, legacy
            )
        call = Call(request, rid, legacy, extract_token(headers), body, path == _FOUNDRY,
                     path.endswith(emb.EMBEDDINGS_TAIL))
        return await self._inference(call, org or None)

    # -- responses -------------------------------------------------------------------------

    def _error(
        self,
        status: int,
        text: str,
        rid: str,
        legacy: bool,
        extra: tuple[tuple[str, str], ...] = (),
        content_type: str | None = None,
    ) -> web.Response:
        """An error response: body plus a trailing newline, as the service sent them."""
        hdrs: CIMultiDict[str] = CIMultiDict(extra)
        hdrs["x-github-request-id"] = rid
        if legacy:
            hdrs.extend(LEGACY_HEADERS)
        body = (text + "\n").encode() if text else b""
        if body:
            hdrs["content-type"] = content_type or self._cfg.error_content_type
        return web.Response(status=status, body=body, headers=hdrs)

    def _denied(self, call: Call, denial: Denial) -> web.Response:
        return self._error(denial.status, denial.body, call.rid, call.legacy)

    def _models_v1(self, request: web.BaseRequest, rid: str) -> web.Response:
        """``GET /v1/models``: the catalog wrapped as ``{"data": [...]}`` (seen live in 2026)."""
        if request.method != "GET":
            return self._error(
                405, github_error("method_not_allowed", "Method Not Allowed"), rid, False
            )
        body = b'{"object":"list","data":' + self._index().catalog_body + b"}"
        return web.Response(
            body=body, headers={"content-type": "application/json", "x-github-request-id": rid})

    def _catalog(self, request: web.BaseRequest, rid: str) -> web.Response:
        if self._state.mode == "retired":
            return self._error(410, RETIRED_BODY, rid, False)
        if request.method != "GET":
            return self._error(
                405, github_error("method_not_allowed", "Method Not Allowed"), rid, False
            )
        return web.Response(
            body=self._index().catalog_body,
            headers={"content-type": "application/json", "x-github-request-id": rid},
        )

    # -- inference -------------------------------------------------------------------------

    async def _inference(self, call: Call, org: str | None) -> web.StreamResponse:
        state = self._state
        mode = state.mode
        if mode == "retired":
            return self._error(410, RETIRED_BODY, call.rid, call.legacy)
        if mode == "deprecated":
            return self._error(403, "", call.rid, call.legacy, DEPRECATED_HEADERS)
        denial = check_token(state, call.token)
        if denial is not None:
            return self._denied(call, denial)
        org_info = None
        if org is not None:
            denial, org_info = check_org(state, org, call.token)
            if denial is not None:
                return self._denied(call, denial)
        body = call.body
        if not isinstance(body, dict):
            msg = (
                "We could not parse the JSON body of your request. The OpenAI API expects a "
                "JSON payload."
            )
            return self._error(
                400, openai_error("invalid_request_error", msg, None), call.rid, call.legacy
            )
        model = body.get("model")
        keys: tuple[str, ...] = ()
        if isinstance(model, str):
            keys = (model.lower(), model.rpartition("/")[2].lower())
        fault = state.take_script(keys, ERROR_KINDS) if state.scripts else None
        if fault is not None and fault.kind == "error":
            return self._scripted_error(call, fault)
        if not isinstance(model, str) or not model:
            msg = "you must provide a model parameter"
            return self._error(
                400, openai_error("invalid_request_error", msg, "model"), call.rid, call.legacy
            )
        entry, denial = (emb.resolve_deployment(self._index(), model) if call.v1
                         else self._resolve(model, call.legacy))
        if denial is not None:
            return self._denied(call, denial)
        assert entry is not None
        denial = check_model_allowed(org_info, entry.id, model)
        if denial is not None:
            return self._denied(call, denial)
        problem = (emb.validate_embeddings(body, entry) if call.embeddings
                   else validate(body, entry, foundry=call.foundry))
        if problem is not None:
            param, code, msg = problem
            return self._error(400, openai_error(code, msg, param), call.rid, call.legacy)
        return await self._admitted(call, entry, body, keys, fault,
                                    lambda hit: self._rate_limited(call, hit))

    async def _admitted(self, call: Call, entry: ModelEntry, body: dict[str, Any],
                        keys: tuple[str, ...], fault: Any,
                        refuse: Callable[[RateLimitHit], web.StreamResponse],
                        ) -> web.StreamResponse:
        """Answer within the emulated rate limits (both routes): ``refuse`` shapes a 429."""
        state = self._state
        limit_key = None
        if state.rate_limits:
            limit_key = (call.token or "", entry.id.lower())
            with state.lock:
                hit = state.limiter.acquire(limit_key, state.limits_for(entry.tier, entry.id))
            if hit is not None:
                return refuse(hit)
        try:
            return await self._answer(call, entry, body, keys, fault)
        finally:
            if limit_key is not None:
                with state.lock:
                    state.limiter.release(limit_key)

    def _resolve(self, model: str, legacy: bool) -> tuple[ModelEntry | None, Denial | None]:
        index = self._index()
        if legacy:
            entry = index.by_bare(model)
            if entry is None:
                msg = f"Unknown model: {model.lower()}"
                return None, Denial(400, github_error("unknown_model", msg, details=None))
            return entry, None
        if "/" not in model:
            return None, Denial(400, MODEL_FORMAT_MESSAGE)
        entry = index.by_id(model)
        if entry is None:
            msg = f"Unknown model: {model}"
            return None, Denial(self._cfg.unknown_model_status, github_error("unknown_model", msg))
        return entry, None

    def _scripted_error(self, call: Call, reply: Reply) -> web.Response:
        body = reply.body
        text = json.dumps(body) if isinstance(body, dict) else (body or "")
        return self._error(
            reply.status, text, call.rid, call.legacy, reply.headers, reply.content_type
        )

    async def _early_fault(self, call: Call, fault: Reply) -> web.StreamResponse | None:
        """Faults that act before any response: delay, hang, reset."""
        kind = fault.fault_kind
        if kind == "delay":
            try:
                await asyncio.wait_for(
                    self._stopping.wait(), float(fault.params.get("seconds", 1.0))
                )
            except TimeoutError:
                return None
            kind = "reset"  # stopping: give up on the request
        elif kind == "hang":
            await self._stopping.wait()
            kind = "reset"
        if kind == "reset":
            abort(call.request)
            return web.Response(status=500)  # never sent: the transport is gone
        return None

    def _rate_limited(self, call: Call, hit: RateLimitHit) -> web.Response:
        msg = (
            f"Rate limit of {hit.limit} per {hit.window}s exceeded for {hit.kind}. "
            f"Please wait {hit.wait} seconds before retrying."
        )
        extra = (
            ("retry-after", str(hit.wait)),
            ("x-ratelimit-timeremaining", str(hit.wait)),
            ("x-ratelimit-type", hit.kind),
            ("x-ms-error-code", "RateLimitReached"),
        )
        return self._error(429, github_error("RateLimitReached", msg), call.rid, call.legacy, extra)

    def _new_call_id(self) -> str:
        return f"call_{self._state.next_serial()}"

    async def _answer(
        self,
        call: Call,
        entry: ModelEntry,
        body: dict[str, Any],
        keys: tuple[str, ...],
        fault: Reply | None,
    ) -> web.StreamResponse:
        state = self._state
        if state.token_limits:
            cap = state.limits_for(entry.tier, entry.id).max_input_tokens
            tokens = (emb.request_tokens(body) if call.embeddings
                      else estimate_prompt_tokens(body))
            if cap is not None and tokens > cap:
                msg = f"Request body too large for {entry.bare} model. Max size: {cap} tokens."
                return self._error(
                    413, github_error("tokens_limit_reached", msg), call.rid, call.legacy
                )
        if fault is not None:
            # Faults act where the model would: after admission, so hung or slow requests
            # hold a concurrency slot like real in-flight requests.
            early = await self._early_fault(call, fault)
            if early is not None:
                return early
            inner = fault.params.get("reply")
            if fault.fault_kind == "delay" and isinstance(inner, Reply) and inner.kind == "error":
                return self._scripted_error(call, inner)
        if call.embeddings:
            return web.Response(body=emb.embeddings_body(body, entry), headers={
                "content-type": "application/json", "x-github-request-id": call.rid})
        plan = self._plan(body, keys, fault, entry)
        cid = f"chatcmpl-emu{call.rid.replace(':', '')}"
        created = int(time.time())
        hdrs: CIMultiDict[str] = CIMultiDict(_ADVISORY)
        hdrs["x-github-request-id"] = call.rid
        hdrs["x-ratelimit-remaining-tokens"] = str(
            2000000 - plan.prompt_tokens - plan.completion_tokens
        )
        if call.legacy:
            hdrs.extend(LEGACY_HEADERS)
        stream_fault = fault if fault is not None and fault.fault_kind in STREAM_FAULTS else None
        azure = self._cfg.stream_style == "azure"
        try:
            if body.get("stream") is True:
                options = body.get("stream_options")
                usage = isinstance(options, dict) and options.get("include_usage") is True
                hdrs["content-type"] = "text/event-stream"
                hdrs["cache-control"] = "no-cache"
                payloads = stream_payloads(plan, entry.deployment, cid, created, azure, usage)
                resp = web.StreamResponse(headers=hdrs)
                await write_stream(call.request, resp, payloads, stream_fault)
                return resp
            data = completion_body(plan, entry.deployment, cid, created, azure)
            hdrs["content-type"] = "application/json"
            if stream_fault is None or stream_fault.fault_kind != "drop_mid_stream":
                return web.Response(body=data, headers=hdrs)
            resp = web.StreamResponse(headers=hdrs)
            await write_half_body(call.request, resp, data)
            return resp
        except (StreamAborted, ConnectionResetError):
            return web.Response(status=500)  # never sent: the transport is gone

    def _plan(self, body: dict[str, Any], keys: tuple[str, ...], fault: Reply | None,
              entry: ModelEntry) -> Plan:
        reply: Reply | None = None
        if fault is not None:
            # A fault is this request's one scripted reply: its content is its own ``reply``
            # or ``text``, else the default answer (it never takes the next queued reply).
            inner = fault.params.get("reply")
            if isinstance(inner, Reply) and inner.kind in _CONTENT_KINDS:
                reply = inner
            elif isinstance(fault.params.get("text"), str):
                reply = Reply.text(fault.params["text"])
        elif self._state.scripts:
            reply = self._state.take_script(keys, _CONTENT_KINDS)
        if reply is not None:
            return plan_from_reply(reply, body, self._new_call_id)
        return with_model_habits(default_plan(body, self._new_call_id), entry, body,
                                 self._prompt_cache)
