"""Fixtures for the emulator tests (the helpers live in ``emulator_http``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator_http import CATALOG, Http

from shared.plugins.model_provider.github_models.emulator import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A running emulator with the small explicit catalog."""
    with Emulator(catalog=CATALOG) as running:
        yield running


@pytest.fixture
def http_(emu: Emulator) -> Iterator[Http]:
    """A keep-alive client of ``emu``."""
    client = Http(emu)
    yield client
    client.close()
