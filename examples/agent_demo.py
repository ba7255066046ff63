"""The main job: a real agent conversation through ``load_provider("github_models")``.

It opens a session with a system instruction and a tool, streams the model's reply, answers the
model's function call with a tool result, streams the final answer, and prints token usage, the
model's context limit and the estimated cost.

Where it runs: against a real endpoint when ``GITHUB_TOKEN`` and ``JAATO_GITHUB_ENDPOINT`` are set
(in the environment or a ``.env`` file); otherwise against the bundled GitHub Models emulator,
started on 127.0.0.1 for the length of the demo. ``JAATO_GITHUB_MODEL`` picks the model
(default ``openai/gpt-4o``).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import ExitStack
from typing import Any

from shared import ProviderConfig, ToolResult, ToolSchema, load_provider

try:  # this checkout (make demo): the folder provider, which load_provider finds first
    from shared.plugins.model_provider.github_models.errors import GitHubModelsError
except ModuleNotFoundError:  # the framework plus the installed wheel (pip install)
    from jaato_github_models.errors import GitHubModelsError  # type: ignore[no-redef]


class ModelLine:
    """Streams the model's text after a ``model>`` label, printed with the first chunk only,
    so a reply that is only a tool call leaves no empty ``model>`` line."""

    def __init__(self) -> None:
        self.started = False

    def write(self, text: str) -> None:
        if not self.started:
            self.started = True
            print("model> ", end="")
        print(text, end="", flush=True)

    def end(self) -> None:
        if self.started:
            print()


WEATHER_TOOL = ToolSchema(
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)


def get_weather(city: str) -> dict[str, Any]:
    """The agent's own tool (the provider never runs tools)."""
    return {"city": city, "temperature_c": 18, "conditions": "light rain"}


def _configured() -> bool:
    from dotenv import dotenv_values, find_dotenv

    values = {**dotenv_values(find_dotenv(usecwd=True) or os.devnull), **os.environ}
    return bool(values.get("GITHUB_TOKEN") and values.get("JAATO_GITHUB_ENDPOINT"))


def main() -> int:
    """Run the conversation; return the process exit code."""
    model = os.environ.get("JAATO_GITHUB_MODEL", "openai/gpt-4o")
    with ExitStack() as stack:
        if _configured():
            config = ProviderConfig()
            print("Using the configured endpoint (GITHUB_TOKEN and JAATO_GITHUB_ENDPOINT).")
        else:
            try:
                from shared.plugins.model_provider.github_models.emulator import Emulator
            except ModuleNotFoundError:
                from jaato_github_models.emulator import Emulator  # type: ignore[no-redef]

            emulator = stack.enter_context(Emulator())
            config = ProviderConfig(api_key="github_pat_demo_emulator_token",
                                    extra={"endpoint": emulator.inference_url})
            print(f"No endpoint configured: using the bundled emulator at {emulator.url}")
        try:
            provider = load_provider("github_models", config)
            stack.callback(provider.shutdown)
            provider.connect(model)
            provider.create_session(
                system_instruction="You are a concise assistant. Use tools when they help.",
                tools=[WEATHER_TOOL])

            question = "What is the weather in Paris? Use get_weather."
            print(f"\nuser> {question}")
            line = ModelLine()
            response = provider.send_message_streaming(question, on_chunk=line.write)
            line.end()
            rounds = 0
            while response.function_calls and rounds < 5:
                rounds += 1
                results = []
                for call in response.function_calls:
                    print(f"tool call> {call.name}({json.dumps(call.args)})")
                    output = get_weather(**call.args) if call.name == "get_weather" else {
                        "error": f"unknown tool {call.name}"}
                    print(f"tool result> {json.dumps(output)}")
                    results.append(ToolResult(call_id=call.id, name=call.name, result=output,
                                              is_error="error" in output))
                line = ModelLine()
                response = provider.send_tool_results_streaming(results, on_chunk=line.write)
                line.end()
        except GitHubModelsError as exc:
            print(f"\nerror: {exc}", file=sys.stderr)
            return 1
        usage = provider.get_token_usage()
        summary = provider.get_usage_summary()  # type: ignore[attr-defined]
        print(f"\nfinish reason: {response.finish_reason.value}")
        print(f"last response usage: prompt {usage.prompt_tokens}, output {usage.output_tokens}, "
              f"total {usage.total_tokens} tokens")
        print(f"session: {summary['requests']} requests, {summary['total_tokens']} tokens, "
              f"~${summary['cost_usd']:.6f} ({summary['token_units']} token units), "
              f"attributed to {summary['attributed_to']}")
        window = provider.model_info.max_input_tokens if provider.model_info else None
        limit, out = provider.get_context_limit(), provider.get_max_output_tokens() or 0
        note = (f" (the tier's per-request caps, {limit - out} in + {out} out; the model's "
                f"window is {window})") if window and limit < window else ""
        print(f"context limit of {provider.model_name}: {limit} tokens{note}")
        print(f"history: {len(provider.get_history())} messages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
