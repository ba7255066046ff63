"""A rate-store password holding ``/``, ``#``, ``?``, ``+`` or ``=`` (Azure Cache for Redis keys are
base64): it works against a real Valkey, and no piece of it reaches an error, ``doctor``,
``quota`` or a pickle."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models.config.env import resolve_settings
from shared.plugins.model_provider.github_models.errors import ConfigurationError
from shared.plugins.model_provider.github_models.pacing.rate_store import parse_store_url

from .store_server import StoreServer, running_store
from .test_cli import TOKEN, cli_env, run_cli

# every piece of it is distinctive, so a partial quote is caught too
PIECES = ("Qx7Lm", "Zr9Tw", "Kp3Vd", "Hs5Ny")
PASSWORD = f"{PIECES[0]}/{PIECES[1]}#{PIECES[2]}?{PIECES[3]}+a=="


def assert_no_piece(*texts: str) -> None:
    for text in texts:
        for piece in PIECES:
            assert piece not in text, f"a piece of the store password leaked: {text!r}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreServer]:
    with running_store(tmp_path / "store", password=PASSWORD) as server:
        yield server


@pytest.mark.parametrize("url", [
    f"redis://:{PASSWORD}@127.0.0.1:6379/0",
    f"redis://user:{PASSWORD}@127.0.0.1:6379/0",
    f"redis://:{PASSWORD}@127.0.0.1:notaport/0",
    f"redis://:{PASSWORD}@127.0.0.1:6379/db",
    f"redis://:{PASSWORD}@/0",
    f"ftp://:{PASSWORD}@127.0.0.1/0",
    "redis://:12/Qx7Lm@127.0.0.1:6379/0",
])
def test_no_url_error_quotes_a_piece_of_the_password(url: str) -> None:
    try:
        location = parse_store_url(url)
    except ConfigurationError as exc:
        assert_no_piece(str(exc), repr(exc))
        assert "rate store URL" in str(exc)
    else:
        assert location.display.startswith("redis://:***@127.0.0.1:6379")
        assert_no_piece(location.display, repr(location))


def test_a_base64_password_logs_in_and_paces(emulator: Any, store: StoreServer) -> None:
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key=TOKEN, extra={
        "endpoint": emulator.inference_url, "pacing": True, "rate_store": store.url,
        "rate_store_strict": True}))
    try:
        provider.connect("openai/gpt-4o-mini")
        assert provider.generate("hi").text
        assert_no_piece(repr(provider))
    finally:
        provider.shutdown()


def test_doctor_and_quota_show_no_piece_of_the_password(
        tmp_path: Path, emulator: Any, store: StoreServer) -> None:
    env = cli_env(tmp_path, emulator.inference_url, JAATO_GITHUB_RATE_STORE=store.url)
    doctor = run_cli(tmp_path, "doctor", "--json", env=env)
    assert_no_piece(doctor.stdout, doctor.stderr)
    checks = {c["id"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["rate_store"]["status"] == "PASS", checks["rate_store"]
    quota = run_cli(tmp_path, "quota", env=env)
    assert_no_piece(quota.stdout, quota.stderr)
    assert quota.returncode == 0, quota.stdout + quota.stderr
    wrong = cli_env(tmp_path, emulator.inference_url,
                    JAATO_GITHUB_RATE_STORE=store.url.replace("+a==", "+b=="))
    refused = run_cli(tmp_path, "doctor", "--json", env=wrong)
    assert_no_piece(refused.stdout, refused.stderr)
    assert "refused the login" in refused.stdout


def test_a_pickled_settings_keeps_no_store_password() -> None:
    settings = resolve_settings(ProviderConfig(api_key=TOKEN, extra={
        "rate_store": f"redis://:{PASSWORD}@127.0.0.1:6379/0",
        "endpoint": "http://127.0.0.1:8/inference;key=Hs5Ny-endpoint"}), {})
    data = pickle.dumps(settings)
    assert_no_piece(data.decode("latin-1"))
    back = pickle.loads(data)
    assert back.rate_store == "redis://:***@127.0.0.1:6379/0"
    assert back.endpoint == "http://127.0.0.1:8/inference"
    assert settings.rate_store is not None and PIECES[0] in settings.rate_store  # still works
