"""Foundry's OpenAI v1 route (``/openai/v1/...``) as the emulator serves it.

What it does as v1 does (docs/emulator.md, "The OpenAI v1 route"):

* the key in ``api-key`` (or an Entra ID bearer in ``Authorization``); none: 401 in OpenAI shape;
* no dated ``api-version``: a request carrying one is answered 400 ``BadRequest`` (param
  ``api-version``) before anything else is looked at;
* ``model`` is a deployment name: the catalog's bare names (``gpt-4o``), full ids, and names added
  with ``Emulator.add_deployment``; anything else: 404 ``DeploymentNotFound``;
* OpenAI-shaped errors (``{"error": {"code", "message", "type", "param"}}``, JSON) and rate-limit
  headers (``retry-after``, ``retry-after-ms``, ``x-ratelimit-remaining-requests``,
  ``x-ratelimit-remaining-tokens``); scripted errors, faults and replies as on the other routes.

Routes live in ``V1Routes.ROUTES`` (``(method, tail) -> handler name``): adding one (e.g.
``POST embeddings``) is one entry and one method.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from .call import ERROR_KINDS, V1_PREFIX, Call
from .policy import check_entra

if TYPE_CHECKING:
    from .handler import RequestHandler
    from .models import ModelEntry
    from .state import RateLimitHit

__all__ = ["V1_PREFIX", "V1Routes", "v1_error"]

_DATED_VERSION = "api-version query parameter is not allowed when using /v1 path"
_BAD_KEY = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
            "provide a valid key for an active subscription and use a correct regional API "
            "endpoint for your resource.")
_NO_DEPLOYMENT = ("The API deployment for this resource does not exist. If you created the "
                  "deployment within the last 5 minutes, please wait a moment and try again.")
_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error",
                404: "invalid_request_error", 429: "rate_limit_error"}


def v1_error(status: int, code: str, message: str, param: str | None = None,
             headers: tuple[tuple[str, str], ...] = (), rid: str = "") -> web.Response:
    """An error in OpenAI's shape, as JSON, with the request id headers v1 sends."""
    body = {"error": {"code": code, "message": message, "param": param,
                      "type": _ERROR_TYPES.get(status, "server_error")}}
    hdrs = {"content-type": "application/json", "apim-request-id": rid, "x-request-id": rid}
    hdrs.update(headers)
    return web.Response(status=status, body=json.dumps(body).encode(), headers=hdrs)


class V1Routes:
    """The ``/openai/v1/`` routes of one emulator (they share its state, scripts and faults)."""

    ROUTES: ClassVar[dict[tuple[str, str], str]] = {
        ("POST", "chat/completions"): "_chat",
        ("GET", "models"): "_models",
        ("POST", "embeddings"): "_embeddings",
    }

    def __init__(self, handler: RequestHandler) -> None:
        self._handler = handler

    async def handle(self, request: web.BaseRequest, rid: str, body: Any,
                     headers: dict[str, str]) -> web.StreamResponse:
        """Answer one ``/openai/v1/...`` request."""
        if "api-version" in {k.lower() for k in request.query}:
            return v1_error(400, "BadRequest", _DATED_VERSION, "api-version", rid=rid)
        tail = request.path[len(V1_PREFIX):].strip("/")
        name = self.ROUTES.get((request.method, tail))
        if name is None:
            if any(t == tail for _m, t in self.ROUTES):
                return v1_error(405, "MethodNotAllowed", "Method Not Allowed", rid=rid)
            return v1_error(404, "404", "Resource not found", rid=rid)
        denial = self._authenticate(headers, rid)
        if denial is not None:
            return denial
        method = getattr(self, name)
        return await method(request, rid, body, headers)  # type: ignore[no-any-return]

    def _authenticate(self, headers: dict[str, str], rid: str) -> web.Response | None:
        """The key in ``api-key``, or an Entra bearer; strict auth checks registered keys."""
        state = self._handler._state
        auth = headers.get("authorization", "")
        scheme, _, bearer = auth.partition(" ")
        key = headers.get("api-key") or None
        prefix = state.entra_prefix
        if prefix is not None:
            token = bearer.strip() if scheme.lower() == "bearer" else None
            if check_entra(state, token, prefix) is not None:
                return v1_error(401, "PermissionDenied", "The principal lacks the required "
                                "data action or the token is invalid.", rid=rid)
            return None
        token = key or (bearer.strip() if scheme.lower() == "bearer" else None)
        with state.lock:
            known = token is not None and (not state.strict_auth or token in state.tokens)
        return None if known else v1_error(401, "401", _BAD_KEY, rid=rid)

    async def _models(self, request: web.BaseRequest, rid: str, body: Any,
                      headers: dict[str, str]) -> web.StreamResponse:
        """``GET /openai/v1/models``: the deployments, in OpenAI's list shape."""
        del request, body, headers
        index = self._handler._index()
        data = [{"id": bare, "object": "model", "created": 0, "owned_by": "system"}
                for bare in index.bare_names]
        data += [{"id": name, "object": "model", "created": 0, "owned_by": "organization-owner"}
                 for name in sorted(self._handler._state.deployments)]
        return web.Response(body=json.dumps({"object": "list", "data": data}).encode(),
                            headers={"content-type": "application/json", "x-request-id": rid})

    async def _embeddings(self, request: web.BaseRequest, rid: str, body: Any,
                          headers: dict[str, str]) -> web.StreamResponse:
        """``POST /openai/v1/embeddings``: the embeddings engine of the other routes
        (``embeddings.py``), reached after v1's own checks (api-version, key)."""
        from .policy import extract_token

        call = Call(request, rid, False, extract_token(headers), body, False, True, True)
        return await self._handler._inference(call, None)

    def deployment(self, name: str) -> ModelEntry | None:
        """The catalog entry a deployment name serves, or None."""
        index = self._handler._index()
        target = self._handler._state.deployments.get(name.lower())
        if target is not None:
            return index.by_id(target)
        return index.by_id(name) or index.by_bare(name)

    async def _chat(self, request: web.BaseRequest, rid: str, body: Any,
                    headers: dict[str, str]) -> web.StreamResponse:
        """``POST /openai/v1/chat/completions``."""
        from .policy import extract_token
        from .validation import validate

        state = self._handler._state
        call = Call(request, rid, False, extract_token(headers), body, True)
        if not isinstance(body, dict):
            return v1_error(400, "invalid_request_error", "We could not parse the JSON body of "
                            "your request.", rid=rid)
        model = body.get("model")
        keys = (model.lower(),) if isinstance(model, str) else ()
        fault = state.take_script(keys, ERROR_KINDS) if state.scripts else None
        if fault is not None and fault.kind == "error":
            reply = fault.body
            text = json.dumps(reply) if isinstance(reply, dict) else (reply or "")
            return web.Response(status=fault.status, body=text.encode(), headers={
                "content-type": fault.content_type or "application/json", "x-request-id": rid,
                **dict(fault.headers)})
        if not isinstance(model, str) or not model:
            return v1_error(400, "invalid_request_error", "you must provide a model parameter",
                            "model", rid=rid)
        entry = self.deployment(model)
        if entry is None:
            return v1_error(404, "DeploymentNotFound", _NO_DEPLOYMENT, rid=rid)
        problem = validate(body, entry, foundry=True)
        if problem is not None:
            param, code, msg = problem
            return v1_error(400, code, msg, param, rid=rid)
        return await self._handler._admitted(call, entry, body, keys, fault,
                                             lambda hit: _rate_limited(hit, call.rid))


def _rate_limited(hit: RateLimitHit, rid: str) -> web.Response:
    """The v1 route's 429 (Azure OpenAI's wording and headers)."""
    msg = (f"Requests to the ChatCompletions_Create Operation under Azure OpenAI API "
           f"version v1 have exceeded the rate limit of your deployment. Please "
           f"retry after {hit.wait} seconds.")
    return v1_error(429, "429", msg, headers=(
        ("retry-after", str(hit.wait)), ("retry-after-ms", str(hit.wait * 1000)),
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-remaining-tokens", "0")), rid=rid)
