"""Facts about the GitHub Models service that several modules state: one copy of each."""

from __future__ import annotations

__all__ = ["GITHUB_MODELS_HOST", "LEGACY_HOST", "RETIRED_HOSTS", "RETIREMENT_DATE"]

RETIREMENT_DATE = "2026-07-30"
"""The day GitHub retired GitHub Models; every models.github.ai endpoint answers 410 since."""

GITHUB_MODELS_HOST = "models.github.ai"
LEGACY_HOST = "models.inference.ai.azure.com"
"""The older GitHub Models host (deprecated 2025-07-17, removed 2025-10-17)."""

RETIRED_HOSTS = frozenset({GITHUB_MODELS_HOST, LEGACY_HOST})
