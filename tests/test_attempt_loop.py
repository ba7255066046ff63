"""The attempt loop is one I/O-free generator; the sync and async drivers only carry it out.

No HTTP here: the loop's decisions are driven by hand (as h11's are), and both drivers are run
over the same scripted outcomes. The behaviour over real HTTP is in test_resilience_*.py and
test_provider_async.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from shared.plugins.model_provider.github_models.calls.calls import (
    Send,
    Sleep,
    arun_attempts,
    attempt_loop,
    run_attempts,
)
from shared.plugins.model_provider.github_models.errors import (
    GitHubModelsError,
    ServiceUnavailableError,
)


def _error(n: int) -> GitHubModelsError:
    return ServiceUnavailableError(what=f"attempt {n}", why="scripted", fix="none", status=503)


def _delays(most: int, asked: list[tuple[str, int]]) -> Callable[[GitHubModelsError, int], float]:
    def next_delay(error: GitHubModelsError, attempt: int) -> float:
        asked.append((error.what, attempt))
        if attempt >= most:
            raise error
        return attempt * 0.5
    return next_delay


def test_the_loop_yields_send_and_sleep_and_returns_the_first_success() -> None:
    asked: list[tuple[str, int]] = []
    loop = attempt_loop(_delays(5, asked))
    assert next(loop) == Send(1)
    assert loop.send(_error(1)) == Sleep(0.5)
    assert next(loop) == Send(2)
    assert loop.send(_error(2)) == Sleep(1.0)
    assert next(loop) == Send(3)
    with pytest.raises(StopIteration) as done:
        loop.send({"ok": True})
    assert done.value.value == {"ok": True}
    assert asked == [("attempt 1", 1), ("attempt 2", 2)]


def test_no_retry_left_raises_the_attempts_error() -> None:
    loop = attempt_loop(_delays(1, []))
    assert next(loop) == Send(1)
    last = _error(1)
    with pytest.raises(ServiceUnavailableError) as caught:
        loop.send(last)
    assert caught.value is last


def _script(outcomes: list[object]) -> Callable[[], object]:
    it = iter(outcomes)
    return lambda: next(it)


def test_the_sync_and_async_drivers_do_the_same_thing() -> None:
    script = [_error(1), _error(2), "done"]
    slept: list[float] = []
    assert run_attempts(_script(script), _delays(5, []), slept.append) == "done"

    aslept: list[float] = []
    outcomes = iter(script)

    async def once() -> object:
        return next(outcomes)

    async def asleep(seconds: float) -> None:
        aslept.append(seconds)

    assert asyncio.run(arun_attempts(once, _delays(5, []), asleep)) == "done"
    assert slept == aslept == [0.5, 1.0]


def test_both_drivers_raise_when_retries_run_out() -> None:
    with pytest.raises(ServiceUnavailableError, match="attempt 2"):
        run_attempts(_script([_error(1), _error(2)]), _delays(2, []), lambda _: None)

    outcomes = iter([_error(1), _error(2)])

    async def once() -> object:
        return next(outcomes)

    async def asleep(_: float) -> None:
        return None

    with pytest.raises(ServiceUnavailableError, match="attempt 2"):
        asyncio.run(arun_attempts(once, _delays(2, []), asleep))
