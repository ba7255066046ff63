#!/usr/bin/env python
"""Drive the real jaato framework (jaato-server 0.15.x or 1.2.x) in-process.

Run by tests/test_jaato_integration.py with the interpreter of a jaato venv (it imports jaato,
never this project's test code).

Runs jaato's own in-process client (``JaatoClient``) with a model provider
chosen by configuration alone and performs three scenarios:

1. ``tool``         tool round trip, non-streaming: the model calls a tool,
                    jaato executes it, the result goes back, final text.
2. ``tool_stream``  the same, with streaming (``on_chunk``) enabled.
3. ``cancel``       a streaming turn cancelled mid-stream with
                    ``JaatoClient.stop()`` from another thread.

It prints one JSON summary on stdout (diagnostics go to stderr) and exits 0
when every requested scenario met its expectation, 1 otherwise.

Configuration (environment only; nothing here names a provider):

  JAATO_PROVIDER   jaato's own variable: provider name to load (required).
                   jaato resolves it with ``load_provider`` over entry points
                   (group ``jaato.model_providers``) plus its own folder scan.
  MODEL_NAME       jaato's own variable: model id (required).
  ...              whatever the provider itself reads (e.g. jaato's
                   github_models: GITHUB_TOKEN, JAATO_GITHUB_ENDPOINT; openai:
                   JAATO_OPENAI_API_KEY, JAATO_OPENAI_BASE_URL, JAATO_OPENAI_API).
  DRIVER_SCENARIOS comma list, default ``auth,tool,tool_stream,cancel``
                   (``auth``: ``JaatoClient.verify_auth()`` then ``auth_info``).
  DRIVER_TOOL      tool name, default ``get_weather``.
  DRIVER_PROMPT    prompt for the tool scenarios; default names the tool both
                   as itself and as jaato's wire id (``t_<sha256[:8]>``), so a
                   scripted server that calls "the tool the prompt mentions"
                   fires for providers that hash tool names on the wire
                   (jaato's tool_id_map) and for those that do not.
  DRIVER_CANCEL_PROMPT  prompt for the cancel scenario (default: a long text,
                   so an echoing server streams many chunks).
  DRIVER_CANCEL_TIMEOUT seconds to wait for the first chunk (default 30).
  DRIVER_WORKSPACE workspace dir handed to JaatoClient, kept afterwards (default: a temp
                   dir, removed). jaato's trace logs go there too unless JAATO_TRACE_LOG /
                   JAATO_PROVIDER_TRACE are set (jaato's default is /tmp/*_trace.log).
  DRIVER_PLUGIN_CONFIGS JSON ``{provider: {...}}`` forwarded as the session's
                   ``plugin_configs`` (lands in ``ProviderConfig.extra``).
  DRIVER_TRACE     ``1`` (default) records every method jaato calls on the
                   provider class, in order, with the keyword names it passed.
  DRIVER_SKIP_MODEL_TEST ``1`` passes ``skip_model_test=True`` to connect().

Tool registration is the least invasive public route jaato has in both
versions: ``PluginRegistry.register_core_tool(schema, executor,
auto_approved=True)`` and ``JaatoClient.configure_tools(registry)``.
(``JaatoClient.configure_custom_tools`` exists but leaves the session
unconfigured in 0.15 and 1.2: ``send_message`` then raises "Session not
configured".)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

# --------------------------------------------------------------------------
# Host detection (0.15: top-level ``shared``; 1.2: ``jaato_server.shared``)
# --------------------------------------------------------------------------

def detect_host() -> dict[str, Any]:
    """Import jaato's client, registry and types from whichever layout is installed."""
    errors = []
    for prefix in ("jaato_server.shared", "shared"):
        try:
            client_mod = importlib.import_module(f"{prefix}.jaato_client")
            registry_mod = importlib.import_module(f"{prefix}.plugins.registry")
            mp_mod = importlib.import_module(f"{prefix}.plugins.model_provider")
        except ImportError as exc:
            errors.append(f"{prefix}: {exc}")
            continue
        if not hasattr(client_mod, "JaatoClient"):
            errors.append(f"{prefix}: no JaatoClient")
            continue
        types_mod = importlib.import_module("jaato_sdk.plugins.model_provider.types")
        from importlib.metadata import PackageNotFoundError, version

        def _v(dist: str) -> str | None:
            try:
                return version(dist)
            except PackageNotFoundError:
                return None

        return {
            "prefix": prefix,
            "layout": "1.x" if prefix == "jaato_server.shared" else "0.15",
            "JaatoClient": client_mod.JaatoClient,
            "PluginRegistry": registry_mod.PluginRegistry,
            "model_provider": mp_mod,
            "types": types_mod,
            "versions": {
                "python": sys.version.split()[0],
                "jaato-server": _v("jaato-server"),
                "jaato-sdk": _v("jaato-sdk"),
            },
        }
    raise SystemExit("jaato not importable: " + "; ".join(errors))


# --------------------------------------------------------------------------
# Provider call recorder (class-level, so calls made during load/connect count)
# --------------------------------------------------------------------------

class CallRecorder:
    """Wraps the public methods of the provider class to log jaato's calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._patched: list[tuple[type, str, Any]] = []

    def install(self, cls: type) -> None:
        for name, attr in list(vars(cls).items()):
            if name.startswith("__") or not callable(attr):
                continue
            if isinstance(attr, (staticmethod, classmethod, property, type)):
                continue
            self._patched.append((cls, name, attr))
            setattr(cls, name, self._wrap(name, attr))
        # Inherited public methods (mixins / base classes in the provider package).
        for base in cls.__mro__[1:]:
            if base is object or base.__module__.startswith(("typing", "abc")):
                continue
            for name, attr in list(vars(base).items()):
                if name.startswith("__") or name in vars(cls) or not callable(attr):
                    continue
                if isinstance(attr, (staticmethod, classmethod, property, type)):
                    continue
                self._patched.append((cls, name, None))
                setattr(cls, name, self._wrap(name, attr))

    def uninstall(self) -> None:
        for cls, name, original in reversed(self._patched):
            if original is None:
                with contextlib.suppress(AttributeError):
                    delattr(cls, name)
            else:
                setattr(cls, name, original)
        self._patched.clear()

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        recorder = self

        @functools.wraps(fn)
        def wrapper(self_: Any, *args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1)
            if caller.f_locals.get("self") is self_ or name.startswith("_"):
                return fn(self_, *args, **kwargs)  # the provider calling itself: not jaato
            entry: dict[str, Any] = {"method": name}
            if name == "complete":
                entry["positional"] = [type(a).__name__ for a in args]
                if args and isinstance(args[0], list):
                    entry["messages"] = [
                        f"{getattr(getattr(m, 'role', None), 'value', '?')}:"
                        + "+".join(_part_kind(p) for p in getattr(m, "parts", []))
                        for m in args[0]
                    ]
                entry["kwargs"] = {k: _describe(v) for k, v in kwargs.items()}
                tools = kwargs.get("tools", args[2] if len(args) > 2 else None)
                if isinstance(tools, list):
                    entry["tool_names"] = [getattr(t, "name", "?") for t in tools]
            else:
                entry["args"] = [_describe(a) for a in args]
                entry["kwargs"] = sorted(kwargs)
            with recorder._lock:
                recorder.calls.append(entry)
            try:
                result = fn(self_, *args, **kwargs)
            except BaseException as exc:
                entry["raised"] = type(exc).__name__
                raise
            if name == "complete":
                entry["returned"] = _describe_turn(result)
            return result

        return wrapper


def _part_kind(part: Any) -> str:
    if getattr(part, "function_call", None) is not None:
        return "function_call"
    if getattr(part, "function_response", None) is not None:
        return "function_response"
    if getattr(part, "text", None) is not None:
        return "text"
    return type(part).__name__


def _describe(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return f"str[{len(value)}]"
    if isinstance(value, list):
        inner = sorted({type(v).__name__ for v in value})
        return f"list[{len(value)}] of {','.join(inner) or '-'}"
    if isinstance(value, dict):
        return f"dict keys={sorted(value)[:8]}"
    if callable(value):
        return "callable"
    return type(value).__name__


def _describe_turn(result: Any) -> Any:
    outcome = getattr(result, "outcome", None)
    resp = getattr(result, "response", None)
    return {
        "type": type(result).__name__,
        "outcome": getattr(outcome, "value", outcome),
        "finish_reason": getattr(getattr(resp, "finish_reason", None), "value", None),
        "parts": [_part_kind(p) for p in getattr(resp, "parts", []) or []],
    }


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------

def wire_id(name: str) -> str:
    """jaato's tool_id_map.name_to_id, recomputed (sha256 of the name, 8 hex)."""
    return "t_" + hashlib.sha256(name.encode()).hexdigest()[:8]


class ToolBox:
    """A tool that jaato executes; records each invocation."""

    def __init__(self, host: dict[str, Any], name: str) -> None:
        self.name = name
        self.invocations: list[dict[str, Any]] = []
        self.schema = host["types"].ToolSchema(
            name=name,
            description="Current weather for a city. Returns temperature in Celsius.",
            parameters={
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"],
            },
            # the default, "discoverable", is hidden while JAATO_DEFERRED_TOOLS is on (its default)
            discoverability="core",
        )

        # jaato's ToolExecutor reads ``fn.__name__``: register a plain function.
        def get_weather(args: dict[str, Any]) -> dict[str, Any]:
            self.invocations.append(dict(args))
            return {"city": args.get("city"), "temperature_c": 18, "conditions": "sunny"}

        get_weather.__name__ = name
        self.executor = get_weather


def make_client(host: dict[str, Any], tool: ToolBox | None, workspace: str) -> Any:
    client = host["JaatoClient"](workspace_path=workspace)  # provider from JAATO_PROVIDER
    client.connect()  # model from MODEL_NAME
    registry = host["PluginRegistry"](model_name=client.model_name)
    if tool is not None:
        registry.register_core_tool(tool.schema, tool.executor, auto_approved=True)
    session_kwargs: dict[str, Any] = {}
    raw = os.environ.get("DRIVER_PLUGIN_CONFIGS")
    if raw:
        session_kwargs["plugin_configs"] = json.loads(raw)
    client.configure_tools(
        registry,
        session_kwargs=session_kwargs or None,
        skip_model_test=os.environ.get("DRIVER_SKIP_MODEL_TEST") == "1",
    )
    return client


def history_summary(client: Any) -> list[str]:
    out = []
    for m in client.get_history():
        role = getattr(getattr(m, "role", None), "value", "?")
        kinds = []
        for p in m.parts:
            fc = getattr(p, "function_call", None)
            fr = getattr(p, "function_response", None)
            if fc is not None:
                kinds.append(f"call {fc.name}({json.dumps(fc.args, sort_keys=True)})")
            elif fr is not None:
                kinds.append(f"result {fr.name} error={getattr(fr, 'is_error', None)}")
            elif getattr(p, "text", None) is not None:
                kinds.append(f"text[{len(p.text)}]")
        out.append(f"{role}: " + "; ".join(kinds))
    return out


def usage_summary(client: Any) -> dict[str, Any]:
    try:
        turns = client.get_turn_accounting()
    except Exception as exc:  # pragma: no cover - diagnostic only
        return {"error": repr(exc)}
    keys = ("prompt", "output", "total", "finish_reason", "function_calls")
    return {"turns": [{k: t.get(k) for k in keys if k in t} for t in turns]}


def run_tool_turn(host: dict[str, Any], workspace: str, streaming: bool) -> dict[str, Any]:
    tool = ToolBox(host, os.environ.get("DRIVER_TOOL", "get_weather"))
    prompt = os.environ.get(
        "DRIVER_PROMPT",
        f"What is the weather in Paris? Use the {tool.name} tool ({wire_id(tool.name)}).",
    )
    client = make_client(host, tool, workspace)
    client.set_streaming_enabled(streaming)
    outputs: list[tuple[str, str, str]] = []
    t0 = time.perf_counter()
    try:
        final = client.send_message(prompt, on_output=lambda s, t, m: outputs.append((s, t, m)))
        error = None
    except Exception as exc:
        final, error = None, f"{type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
    elapsed = time.perf_counter() - t0
    model_chunks = [t for s, t, _ in outputs if s == "model"]
    result = {
        "streaming": streaming,
        "provider": client.provider_name,
        "model": client.model_name,
        "supports_stop": client.supports_stop,
        "final_text": final,
        "error": error,
        "tool_ran": bool(tool.invocations),
        "tool_args": tool.invocations,
        "model_chunks": len(model_chunks),
        "output_sources": sorted({s for s, _, _ in outputs}),
        "history": history_summary(client),
        # the provider name jaato records on each model turn (jaato 1.x; None on 0.15)
        "history_providers": sorted({str(getattr(m, "provider", None)) for m in
                                     client.get_history()
                                     if getattr(getattr(m, "role", None), "value", "") == "model"}),
        "usage": usage_summary(client),
        "seconds": round(elapsed, 3),
    }
    result["ok"] = bool(
        error is None
        and tool.invocations
        and final
        and (model_chunks if streaming else True)
    )
    client.close_session() if hasattr(client, "close_session") else None
    return result


def run_auth(host: dict[str, Any], workspace: str) -> dict[str, Any]:
    """What a jaato front end does before configuring tools: verify_auth, then auth_info."""
    client = host["JaatoClient"](workspace_path=workspace)
    client.connect()
    messages: list[str] = []
    try:
        verified = client.verify_auth(allow_interactive=False, on_message=messages.append)
        error = None
    except Exception as exc:
        verified, error = None, f"{type(exc).__name__}: {exc}"
    configured = make_client(host, None, workspace)
    info = configured.auth_info
    return {
        "verify_auth": verified,
        "error": error,
        "messages": messages[:5],
        "auth_info": info,
        "ok": verified is True and error is None,
    }


def run_cancel(host: dict[str, Any], workspace: str) -> dict[str, Any]:
    words = " ".join(f"word{i}" for i in range(400))
    prompt = os.environ.get("DRIVER_CANCEL_PROMPT", f"Tell me a long story: {words}")
    timeout = float(os.environ.get("DRIVER_CANCEL_TIMEOUT", "30"))
    client = make_client(host, None, workspace)
    client.set_streaming_enabled(True)
    first_chunk = threading.Event()
    stop_issued = threading.Event()
    outputs: list[tuple[str, str, str]] = []
    box: dict[str, Any] = {}

    def on_output(source: str, text: str, mode: str) -> None:
        outputs.append((source, text, mode))
        if source == "model" and not first_chunk.is_set():
            first_chunk.set()
            # Hold the stream (as a slow model would) until the user has hit stop,
            # so the cancel lands mid-stream however fast the server is.
            stop_issued.wait(timeout)

    def worker() -> None:
        try:
            box["final"] = client.send_message(prompt, on_output=on_output)
        except BaseException as exc:  # CancelledException must be visible
            box["error"] = f"{type(exc).__name__}: {exc}"

    t0 = time.perf_counter()
    th = threading.Thread(target=worker, daemon=True)
    th.start()
    got_chunk = first_chunk.wait(timeout)
    was_processing = client.is_processing
    stop_returned = client.stop() if got_chunk else None
    stop_issued.set()
    th.join(timeout)
    elapsed = time.perf_counter() - t0
    model_text = "".join(t for s, t, _ in outputs if s == "model")
    full_echo = f"Echo: {prompt}"
    result = {
        "provider": client.provider_name,
        "supports_stop": client.supports_stop,
        "first_chunk_seen": got_chunk,
        "is_processing_at_stop": was_processing,
        "stop_returned": stop_returned,
        "thread_finished": not th.is_alive(),
        "final_text": (box.get("final") or "")[:300] or None,
        "error": box.get("error"),
        "model_chunks": sum(1 for s, _, _ in outputs if s == "model"),
        "model_chars": len(model_text),
        "full_reply_chars_if_uncancelled": len(full_echo),
        "other_output": [(s, t[:120]) for s, t, _ in outputs if s != "model"][:5],
        "history": history_summary(client),
        "usage": usage_summary(client),
        "seconds": round(elapsed, 3),
    }
    result["ok"] = bool(
        got_chunk and stop_returned and not th.is_alive()
        and len(model_text) < len(full_echo)
    )
    return result


def main() -> int:
    provider_name = os.environ.get("JAATO_PROVIDER")
    if not provider_name or not os.environ.get("MODEL_NAME"):
        raise SystemExit("set JAATO_PROVIDER and MODEL_NAME (jaato's own variables)")
    kept = os.environ.get("DRIVER_WORKSPACE")
    tmp = None if kept else tempfile.TemporaryDirectory(prefix="jaato-driver-")
    workspace = kept or (tmp.name if tmp else "")
    # Before importing jaato: it traces to /tmp/{rich_client,provider}_trace.log unless told
    # otherwise ("" disables).
    os.environ.setdefault("JAATO_TRACE_LOG", os.path.join(workspace, "jaato_trace.log"))
    os.environ.setdefault("JAATO_PROVIDER_TRACE", os.path.join(workspace, "provider_trace.log"))
    host = detect_host()
    scenarios = [s.strip() for s in os.environ.get(
        "DRIVER_SCENARIOS", "auth,tool,tool_stream,cancel").split(",") if s.strip()]

    summary: dict[str, Any] = {"host": {k: host[k] for k in ("prefix", "layout", "versions")}}
    mp = host["model_provider"]
    factories = mp.discover_providers()
    factory = factories.get(provider_name)
    summary["provider_resolution"] = {
        "requested": provider_name,
        "found": factory is not None,
        "factory_module": getattr(factory, "__module__", None),
        "entry_points": sorted(ep.name for ep in entry_points(group="jaato.model_providers")),
        "import_errors": {k: v[:200] for k, v in mp.get_provider_import_errors().items()
                          if k == provider_name},
    }
    recorder = CallRecorder()
    if factory is not None and os.environ.get("DRIVER_TRACE", "1") == "1":
        instance = factory()
        cls = type(instance)
        summary["provider_resolution"]["class"] = f"{cls.__module__}.{cls.__qualname__}"
        summary["provider_resolution"]["name"] = getattr(instance, "name", None)
        summary["provider_resolution"]["others"] = {
            name: f"{type(f()).__module__}" for name, f in factories.items()
            if name.startswith("github_models") and name != provider_name}
        pkg = sys.modules.get(cls.__module__.rsplit(".", 1)[0])
        for const in ("PROVIDER_CAPABILITIES", "PROVIDER_KNOBS", "PROVIDER_AUTH_RESOLUTION"):
            summary["provider_resolution"][const + "_declared"] = hasattr(pkg, const)
        recorder.install(cls)

    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "tool": lambda: run_tool_turn(host, workspace, streaming=False),
        "tool_stream": lambda: run_tool_turn(host, workspace, streaming=True),
        "cancel": lambda: run_cancel(host, workspace),
        "auth": lambda: run_auth(host, workspace),
    }
    all_ok = True
    for name in scenarios:
        start = len(recorder.calls)
        try:
            res = runners[name]()
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            res = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        res["provider_calls"] = recorder.calls[start:]
        summary[name] = res
        all_ok = all_ok and bool(res.get("ok"))
    recorder.uninstall()
    summary["ok"] = all_ok
    print(json.dumps(summary, indent=2, default=str))
    if tmp is not None:
        tmp.cleanup()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
