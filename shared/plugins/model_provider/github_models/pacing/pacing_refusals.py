"""The error a pacer raises when it will not grant a slot: what was checked, why, and how to fix.

Kept apart from the pacer's decision (``pacing.py``) and its windows (``pacing_windows.py``); the
shared pacer (``shared_pacing.py``) raises the same errors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..common.limits import TierLimits
from ..errors import RateLimitError
from .pacing_windows import DAY, MINUTE

__all__ = ["pacing_refusal"]


def pacing_refusal(
    key: str, limits: TierLimits, kind: str, wait: float, limit: int | None, max_wait: float,
    *, server: bool = False, waited: float | None = None,
) -> RateLimitError:
    """The client-side ``RateLimitError`` for a slot the pacer will not grant (nothing sent).

    Args:
        key: what is paced (the model id); limits: the tier's limits; kind: the limit that
            refuses (``per_day``, ``per_minute``, ``tokens_per_minute``, ``concurrent``, or the
            server's 429 kind); wait: seconds until a slot opens; limit: that limit's value;
            max_wait: the pacer's longest wait; server: the server asked for the pause;
            waited: seconds spent waiting for a concurrency slot.
    """
    resets = datetime.now(UTC) + timedelta(seconds=wait)
    at = f"in {wait:.0f} s (at {resets:%Y-%m-%d %H:%M:%S} UTC)"
    if waited is not None:
        why = (f"all {limit} concurrent slots of tier {limits.tier} stayed busy for "
               f"{waited:.0f} s, longer than the pacer waits ({max_wait:g} s)")
    elif server:
        label = {"per_day": "per-day", "per_minute": "per-minute",
                 "concurrent": "concurrency"}.get(kind, "rate")
        why = (f"the server's {label} limit answered 429 earlier and asked for a pause that "
               f"ends {at}, later than the pacer waits ({max_wait:g} s)")
    elif kind == "per_day":
        why = (f"the client-side budget of {limit} requests a day for tier {limits.tier} is "
               f"spent; the next slot opens {at}")
    elif kind == "tokens_per_minute":
        why = (f"the budget of {limit} tokens a minute for tier {limits.tier} has room for "
               f"this request {at}, later than the pacer waits ({max_wait:g} s)")
    elif limit is not None:
        why = (f"the next slot within {limit} requests a minute opens {at}, later than the "
               f"pacer waits ({max_wait:g} s)")
    else:
        why = (f"the server asked for a pause ({kind}) that ends {at}, later than the pacer "
               f"waits ({max_wait:g} s)")
    window = {"per_day": int(DAY), "per_minute": int(MINUTE),
              "tokens_per_minute": int(MINUTE)}.get(kind)
    return RateLimitError(
        f"Pacing requests for {key}", why,
        "wait until then, use a model of a tier with higher limits, or, with paid usage or a "
        "custom endpoint, raise the tier's limits (extra['rate_limits']) or turn pacing off "
        "(extra['pacing'] = False)",
        retry_after=wait, limit_type=kind, resets_at=resets, limit=limit,
        window_seconds=window, client_side=True,
    )
