"""The static catalog, its generator, and ModelInfo / Catalog behaviour.

The facts asserted here (ids, tiers, limits, deployments) are copied from the reference material
into this file on purpose: the package and its tests never read ../shared at runtime. Only the
generator test reads it, and skips when it is absent (a user's clone).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.plugins.model_provider.github_models.common.limits import FREE_TIER_LIMITS
from shared.plugins.model_provider.github_models.models.catalog import (
    Catalog,
    ModelInfo,
    UnknownModelError,
    static_catalog,
)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CATALOG_JSON = REPO / "shared/plugins/model_provider/github_models/data/catalog.json"
PRIVATE_GENERATOR_KEYS = {"x_limits_source", "x_source"}

# The 56 ids of the complete 2025-05-17 dump (early format), as served (mixed case).
EARLY_DUMP_IDS = [
    "openai/gpt-4.1",
    "openai/gpt-4.1-mini",
    "openai/gpt-4.1-nano",
    "openai/gpt-4o",
    "openai/gpt-4o-mini",
    "openai/o1",
    "openai/o1-mini",
    "openai/o1-preview",
    "openai/o3",
    "openai/o3-mini",
    "openai/o4-mini",
    "openai/text-embedding-3-large",
    "openai/text-embedding-3-small",
    "ai21-labs/AI21-Jamba-1.5-Large",
    "ai21-labs/AI21-Jamba-1.5-Mini",
    "cohere/cohere-command-a",
    "cohere/Cohere-command-r",
    "cohere/Cohere-command-r-08-2024",
    "cohere/Cohere-command-r-plus",
    "cohere/Cohere-command-r-plus-08-2024",
    "cohere/Cohere-embed-v3-english",
    "cohere/Cohere-embed-v3-multilingual",
    "core42/jais-30b-chat",
    "deepseek/DeepSeek-R1",
    "deepseek/DeepSeek-V3-0324",
    "meta/Llama-3.2-11B-Vision-Instruct",
    "meta/Llama-3.2-90B-Vision-Instruct",
    "meta/Llama-3.3-70B-Instruct",
    "meta/Llama-4-Maverick-17B-128E-Instruct-FP8",
    "meta/Llama-4-Scout-17B-16E-Instruct",
    "meta/Meta-Llama-3.1-405B-Instruct",
    "meta/Meta-Llama-3.1-70B-Instruct",
    "meta/Meta-Llama-3.1-8B-Instruct",
    "meta/Meta-Llama-3-70B-Instruct",
    "meta/Meta-Llama-3-8B-Instruct",
    "mistral-ai/Codestral-2501",
    "mistral-ai/Ministral-3B",
    "mistral-ai/Mistral-Large-2411",
    "mistral-ai/mistral-medium-2505",
    "mistral-ai/Mistral-Nemo",
    "mistral-ai/mistral-small-2503",
    "microsoft/MAI-DS-R1",
    "microsoft/Phi-3.5-mini-instruct",
    "microsoft/Phi-3.5-MoE-instruct",
    "microsoft/Phi-3.5-vision-instruct",
    "microsoft/Phi-3-medium-128k-instruct",
    "microsoft/Phi-3-medium-4k-instruct",
    "microsoft/Phi-3-mini-128k-instruct",
    "microsoft/Phi-3-mini-4k-instruct",
    "microsoft/Phi-3-small-128k-instruct",
    "microsoft/Phi-3-small-8k-instruct",
    "microsoft/Phi-4",
    "microsoft/Phi-4-mini-instruct",
    "microsoft/Phi-4-mini-reasoning",
    "microsoft/Phi-4-multimodal-instruct",
    "microsoft/Phi-4-reasoning",
]

ADDED_FROM_SUPPLEMENT = {
    "openai/gpt-5": "custom",
    "openai/gpt-5-mini": "custom",
    "openai/gpt-5-nano": "custom",
    "openai/gpt-5-chat": "custom",
    "xai/grok-3": "custom",
    "xai/grok-3-mini": "custom",
    "deepseek/DeepSeek-R1-0528": "custom",
}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_catalog", REPO / "tools/gen_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_catalog", module)
    spec.loader.exec_module(module)
    return module


def _committed_entries() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(CATALOG_JSON.read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return static_catalog()


# --- the generator --------------------------------------------------------------------------


def test_generator_is_deterministic_and_matches_committed_file() -> None:
    if not (SHARED / "wire" / "catalog_models.json").is_file():
        pytest.skip("../shared reference material absent (only developers and CI have it)")
    gen = _load_generator()
    first = gen.render(gen.build(SHARED))
    second = gen.render(gen.build(SHARED))
    assert first == second
    assert first == CATALOG_JSON.read_text("utf-8"), "stale: run tools/gen_catalog.py"


def test_committed_file_is_sorted_and_well_formed() -> None:
    text = CATALOG_JSON.read_text("utf-8")
    entries = json.loads(text)
    assert text.endswith("]\n")
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, key=lambda i: (i.casefold(), i))
    assert len({i.casefold() for i in ids}) == len(ids)
    for entry in entries:
        assert entry["summary"] == ""
        source = entry["x_limits_source"]
        assert source in {"later-format-example", "marketplace-2025-09-09"} or (
            source.startswith(("model card (", "Cohere model docs (")) and "context length" in
            source), source  # every limit cites where it comes from; none is a default
        assert entry["x_source"]
        assert all(tag == tag.strip() and tag for tag in entry["tags"])


# --- contents --------------------------------------------------------------------------------


def test_every_early_dump_id_is_present_with_exact_case(catalog: Catalog) -> None:
    assert len(EARLY_DUMP_IDS) == 56
    for model_id in EARLY_DUMP_IDS:
        info = catalog.get(model_id)
        assert info is not None, model_id
        assert info.id == model_id


def test_models_added_from_the_supplement(catalog: Catalog) -> None:
    assert len(catalog) == 56 + len(ADDED_FROM_SUPPLEMENT)
    for model_id, tier in ADDED_FROM_SUPPLEMENT.items():
        assert catalog.require(model_id).tier == tier


@pytest.mark.parametrize(
    ("model_id", "max_in", "max_out", "source"),
    [
        ("openai/gpt-4.1", 1048576, 32768, "later-format-example"),
        ("openai/gpt-4.1-mini", 1048576, 32768, "later-format-example"),
        ("openai/gpt-4.1-nano", 1048576, 32768, "marketplace-2025-09-09"),
        ("openai/gpt-4o", 131072, 16384, "marketplace-2025-09-09"),
        ("openai/gpt-4o-mini", 131072, 4096, "marketplace-2025-09-09"),
        ("openai/o1-mini", 128000, 65536, "marketplace-2025-09-09"),
        ("openai/gpt-5", 200000, 100000, "marketplace-2025-09-09"),
        ("deepseek/DeepSeek-R1", 128000, 4096, "marketplace-2025-09-09"),
        ("meta/Llama-4-Scout-17B-16E-Instruct", 10000000, 4096, "marketplace-2025-09-09"),
        ("meta/Llama-3.3-70B-Instruct", 128000, 4096, "marketplace-2025-09-09"),
        ("microsoft/Phi-4", 16384, 16384, "marketplace-2025-09-09"),
        ("core42/jais-30b-chat", 8192, 4096, "marketplace-2025-09-09"),
        ("openai/text-embedding-3-small", 8191, 0, "marketplace-2025-09-09"),
        ("cohere/Cohere-embed-v3-english", 512, 0, "marketplace-2025-09-09"),
        # Not in the service's catalog: the published card's window; its output limit only
        # where the publisher states one (0: unknown, no reply cap is sent)
        ("microsoft/Phi-3-mini-4k-instruct", 4096, 0, "model card"),
        ("microsoft/Phi-3-small-8k-instruct", 8192, 0, "model card"),
        ("microsoft/Phi-3.5-MoE-instruct", 131072, 0, "model card"),
        ("microsoft/Phi-3-medium-128k-instruct", 131072, 0, "model card"),
        ("meta/Meta-Llama-3.1-70B-Instruct", 131072, 0, "model card"),
        ("meta/Meta-Llama-3-8B-Instruct", 8192, 0, "model card"),
        ("cohere/Cohere-command-r", 128000, 4000, "Cohere model docs"),
        ("cohere/Cohere-command-r-plus", 128000, 4000, "Cohere model docs"),
    ],
)
def test_known_limits(
    catalog: Catalog, model_id: str, max_in: int, max_out: int, source: str
) -> None:
    info = catalog.require(model_id)
    assert (info.max_input_tokens, info.max_output_tokens) == (max_in, max_out)
    assert info.context_window == max_in
    entry = next(e for e in _committed_entries() if e["id"] == model_id)
    assert entry["x_limits_source"].split(" (")[0] == source


def test_no_chat_model_has_an_invented_limit(catalog: Catalog) -> None:
    # the 8000 in / 4096 out the generator used to fill in for 14 models is gone
    assert all(info.max_input_tokens > 0 for info in catalog)
    assert not [info.id for info in catalog
                if (info.max_input_tokens, info.max_output_tokens) == (8000, 4096)]


@pytest.mark.parametrize(
    ("model_id", "tier"),
    [
        ("openai/gpt-4.1", "high"),
        ("openai/gpt-4.1-mini", "low"),
        ("openai/gpt-4o", "high"),
        ("openai/gpt-4o-mini", "low"),
        ("openai/o1", "custom"),
        ("openai/o4-mini", "custom"),
        ("deepseek/DeepSeek-R1", "custom"),
        ("microsoft/MAI-DS-R1", "custom"),
        ("deepseek/DeepSeek-V3-0324", "high"),
        ("openai/text-embedding-3-large", "embeddings"),
        ("cohere/Cohere-embed-v3-multilingual", "embeddings"),
        ("microsoft/Phi-4", "low"),
    ],
)
def test_tiers(catalog: Catalog, model_id: str, tier: str) -> None:
    assert catalog.require(model_id).tier == tier


def test_every_tier_has_free_tier_limits(catalog: Catalog) -> None:
    assert {info.tier for info in catalog} <= set(FREE_TIER_LIMITS)


REASONING = {
    "openai/o1",
    "openai/o1-mini",
    "openai/o1-preview",
    "openai/o3",
    "openai/o3-mini",
    "openai/o4-mini",
    "openai/gpt-5",
    "openai/gpt-5-mini",
    "openai/gpt-5-nano",
    "deepseek/DeepSeek-R1",
    "deepseek/DeepSeek-R1-0528",
    "microsoft/MAI-DS-R1",
    "microsoft/Phi-4-reasoning",
    "microsoft/Phi-4-mini-reasoning",
    "xai/grok-3-mini",
}
MAX_COMPLETION = {
    "openai/o1",
    "openai/o1-mini",
    "openai/o1-preview",
    "openai/o3",
    "openai/o3-mini",
    "openai/o4-mini",
    "openai/gpt-5",
    "openai/gpt-5-mini",
    "openai/gpt-5-nano",
    "openai/gpt-5-chat",
}
STRUCTURED = {
    "openai/gpt-4o",
    "openai/gpt-4o-mini",
    "openai/gpt-4.1",
    "openai/gpt-4.1-mini",
    "openai/gpt-4.1-nano",
    "openai/o1",
    "openai/o3",
    "openai/o3-mini",
    "openai/o4-mini",
    "openai/gpt-5",
    "openai/gpt-5-mini",
    "openai/gpt-5-nano",
    "openai/gpt-5-chat",
}


def test_reasoning_and_call_shape_flags(catalog: Catalog) -> None:
    assert {m.id for m in catalog if m.reasoning} == REASONING
    assert {m.id for m in catalog if m.token_param == "max_completion_tokens"} == MAX_COMPLETION
    assert {m.id for m in catalog if not m.supports_temperature} == MAX_COMPLETION - {
        "openai/gpt-5-chat"
    }
    assert {m.id for m in catalog if not m.supports_system} == {
        "openai/o1-mini",
        "openai/o1-preview",
    }
    assert {m.id for m in catalog if m.structured_output} == STRUCTURED


def test_capabilities(catalog: Catalog) -> None:
    gpt41 = catalog.require("openai/gpt-4.1")
    assert gpt41.capabilities == ("agents", "streaming", "tool-calling", "agentsV2")
    for model_id in ("openai/o1-mini", "openai/o1-preview", "openai/text-embedding-3-small"):
        info = catalog.require(model_id)
        assert not info.supports_streaming and not info.supports_tools, model_id
    assert catalog.require("openai/text-embedding-3-small").is_embedding
    assert not catalog.require("openai/gpt-4o").is_embedding
    assert catalog.require("deepseek/DeepSeek-R1").supports_streaming
    assert not catalog.require("deepseek/DeepSeek-R1").supports_tools
    assert catalog.require("mistral-ai/Mistral-Large-2411").supports_tools
    assert catalog.require("openai/gpt-4o").supports_images
    assert not catalog.require("openai/o1-mini").supports_images
    assert {m.id for m in catalog if m.is_embedding} == {
        "openai/text-embedding-3-large",
        "openai/text-embedding-3-small",
        "cohere/Cohere-embed-v3-english",
        "cohere/Cohere-embed-v3-multilingual",
    }


@pytest.mark.parametrize(
    ("model_id", "deployment", "version"),
    [
        ("openai/gpt-4o", "gpt-4o-2024-11-20", "2024-11-20"),
        ("openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18", "2024-07-18"),
        ("openai/gpt-4.1", "gpt-4.1-2025-04-14", "2025-04-14"),
        ("openai/o3-mini", "o3-mini-2025-01-31", "2025-01-31"),
        ("openai/gpt-5-chat", "gpt-5-chat-2025-08-07", "2025-08-07"),
        ("openai/o1-mini", None, ""),
    ],
)
def test_deployments(catalog: Catalog, model_id: str, deployment: str | None, version: str) -> None:
    info = catalog.require(model_id)
    assert (info.deployment, info.version) == (deployment, version)


def test_pricing_attached_by_name(catalog: Catalog) -> None:
    priced = {m.id for m in catalog if m.pricing is not None}
    assert len(priced) == 24  # 15 rows of the latest table + 9 Phi-3 rows of the earlier one
    maverick = catalog.require("meta/Llama-4-Maverick-17B-128E-Instruct-FP8").pricing
    assert maverick is not None and (maverick.input, maverick.output) == (0.025, 0.1)
    mini = catalog.require("openai/gpt-4.1-mini").pricing
    assert mini is not None and mini.cached_input == 0.01
    assert catalog.require("openai/o3").pricing is None


def test_registry_and_html_url(catalog: Catalog) -> None:
    gpt41 = catalog.require("openai/gpt-4.1")
    assert gpt41.registry == "azure-openai"
    assert gpt41.html_url == "https://github.com/marketplace/models/azure-openai/gpt-4-1"
    assert catalog.require("xai/grok-3").registry == "azureml-xai"
    assert catalog.require("microsoft/Phi-3-mini-4k-instruct").registry == "azureml"
    assert catalog.require("microsoft/Phi-3-mini-4k-instruct").html_url == ""


# --- lookup ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("openai/gpt-4o", "openai/gpt-4o"),
        ("OpenAI/GPT-4o", "openai/gpt-4o"),
        ("  openai/gpt-4o  ", "openai/gpt-4o"),
        ("meta/llama-3.3-70b-instruct", "meta/Llama-3.3-70B-Instruct"),
        ("gpt-4o", "openai/gpt-4o"),
        ("Phi-4", "microsoft/Phi-4"),
        ("gpt-4o-2024-11-20", "openai/gpt-4o"),
        ("azureml://registries/azure-openai/models/gpt-4o/versions/2", "openai/gpt-4o"),
        (
            "azureml://registries/azureml-meta/models/Llama-3.3-70B-Instruct/versions/4",
            "meta/Llama-3.3-70B-Instruct",
        ),
    ],
)
def test_get_forms(catalog: Catalog, query: str, expected: str) -> None:
    info = catalog.get(query)
    assert info is not None and info.id == expected
    assert query in catalog


@pytest.mark.parametrize("query", ["openai/gpt4o", "gpt-6", "", "openai/", "anthropic/claude"])
def test_unknown_ids(catalog: Catalog, query: str) -> None:
    assert catalog.get(query) is None
    assert query not in catalog


def test_ambiguous_bare_name_is_not_guessed() -> None:
    a = ModelInfo.from_api({"id": "one/shared-name"})
    b = ModelInfo.from_api({"id": "two/shared-name"})
    cat = Catalog([a, b])
    assert cat.get("shared-name") is None
    assert cat.get("TWO/shared-name") == b


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Catalog([ModelInfo.from_api({"id": "a/b"}), ModelInfo.from_api({"id": "A/B"})])


def test_suggestions_for_typos(catalog: Catalog) -> None:
    assert catalog.suggest("openai/gpt4o")[0] == "openai/gpt-4o"
    assert "openai/gpt-4.1" in catalog.suggest("gpt4.1")
    assert catalog.suggest("llama-3.3")[0] == "meta/Llama-3.3-70B-Instruct"
    assert catalog.suggest("microsoft/phi4")[0] == "microsoft/Phi-4"
    assert len(catalog.suggest("phi", n=3)) == 3
    assert catalog.suggest("zzzzzz") == []


def test_require_error_message(catalog: Catalog) -> None:
    with pytest.raises(UnknownModelError) as info:
        catalog.require("openai/gpt4o")
    err = info.value
    assert isinstance(err, LookupError) and not isinstance(err, KeyError)
    assert err.model_id == "openai/gpt4o"
    assert err.suggestions[0] == "openai/gpt-4o" and len(err.suggestions) <= 5
    text = str(err)
    assert text.startswith("Unknown model 'openai/gpt4o': not among the 63 models")
    assert "Did you mean: openai/gpt-4o" in text
    assert "list_models()" in text and "jaato-github-models models" in text


def test_ids_with_prefix(catalog: Catalog) -> None:
    openai = catalog.ids("OpenAI/")
    assert openai and all(i.startswith("openai/") for i in openai)
    assert "openai/gpt-5" in openai and "xai/grok-3" not in openai
    assert catalog.ids() == [m.id for m in catalog]
    assert len(catalog.ids()) == len(catalog)
    assert catalog.ids("nobody/") == []


def test_static_catalog_is_cached() -> None:
    assert static_catalog() is static_catalog()


# --- from_api / to_api -----------------------------------------------------------------------


def test_round_trip_every_committed_entry() -> None:
    for entry in _committed_entries():
        info = ModelInfo.from_api(entry)
        expected = {k: v for k, v in entry.items() if k not in PRIVATE_GENERATOR_KEYS}
        assert info.to_api(include_private=True) == expected
        assert ModelInfo.from_api(info.to_api(include_private=True)) == info
        public = info.to_api()
        assert not any(k.startswith("x_") for k in public)


def test_public_entries_infer_the_same_private_facts(catalog: Catalog) -> None:
    # A live later-format entry (x_ keys stripped, as the emulator serves it) must give the same
    # call-shape flags: the id rule table and the generated data agree.
    for info in catalog:
        live = ModelInfo.from_api(info.to_api())
        assert (
            live.reasoning,
            live.token_param,
            live.supports_temperature,
            live.supports_system,
            live.structured_output,
            live.capabilities,
        ) == (
            info.reasoning,
            info.token_param,
            info.supports_temperature,
            info.supports_system,
            info.structured_output,
            info.capabilities,
        ), info.id
        assert live.deployment is None and live.pricing is None


def test_early_format_entry_gets_documented_defaults() -> None:
    early = {
        "id": "openai/o3-mini",
        "name": "OpenAI o3-mini",
        "publisher": "OpenAI",
        "summary": "prose",
        "rate_limit_tier": "custom",
        "supported_input_modalities": ["text"],
        "supported_output_modalities": ["text"],
        "tags": ["reasoning", " coding"],
    }
    info = ModelInfo.from_api(early)
    assert info.capabilities == ("streaming", "tool-calling")
    assert (info.max_input_tokens, info.max_output_tokens) == (0, 0)  # unknown, not invented
    assert info.reasoning and info.token_param == "max_completion_tokens"
    assert info.tags == ("reasoning", "coding")
    assert info.registry == "" and info.version == ""

    known = static_catalog().require("openai/o3-mini")
    filled = ModelInfo.from_api(early, fallback=known)
    assert (filled.max_input_tokens, filled.max_output_tokens) == (200000, 100000)
    assert filled.registry == "azure-openai" and filled.deployment == "o3-mini-2025-01-31"


def test_minimal_and_odd_entries() -> None:
    info = ModelInfo.from_api({"id": "acme/Widget-128k"})
    assert (
        info.name == "Widget-128k" and info.publisher == "acme" and info.bare_name == "Widget-128k"
    )
    assert info.input_modalities == ("text",) and info.tier is None
    assert info.max_input_tokens == 128 * 1024
    assert info.to_api()["rate_limit_tier"] == ""

    emb = ModelInfo.from_api({"id": "x/thing", "supported_output_modalities": ["embeddings"]})
    assert emb.is_embedding and emb.capabilities == () and emb.max_output_tokens == 0

    partial_limits = ModelInfo.from_api({"id": "a/b", "limits": {"max_input_tokens": 100}})
    assert (partial_limits.max_input_tokens, partial_limits.max_output_tokens) == (100, 0)

    served = ModelInfo.from_api({"id": "openai/o1", "capabilities": []})
    assert served.capabilities == ()  # what the server says wins over the rule table

    bad: Any
    for bad in ({}, {"id": ""}, {"id": 3}, []):
        with pytest.raises(ValueError):
            ModelInfo.from_api(bad)


def test_catalog_from_api_tolerates_shapes_and_bad_entries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entries = [{"id": "openai/gpt-4o"}, {"name": "no id"}, "junk"]
    cat = Catalog.from_api({"data": entries}, fallback=static_catalog())
    assert cat.ids() == ["openai/gpt-4o"]
    assert cat.require("gpt-4o").max_input_tokens == 131072  # from the fallback
    assert "skipping catalog entry" in caplog.text
    assert Catalog.from_api([]).ids() == []


def test_to_api_entries(catalog: Catalog) -> None:
    public = catalog.to_api_entries()
    assert [e["id"] for e in public] == catalog.ids()
    assert Catalog.from_api(catalog.to_api_entries(include_private=True)).to_api_entries(
        include_private=True
    ) == catalog.to_api_entries(include_private=True)


_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._", min_size=1, max_size=20)


@given(
    model_id=st.builds(lambda p, n: f"{p}/{n}", _text, _text),
    tier=st.sampled_from(["low", "high", "custom", "embeddings", ""]),
    inputs=st.lists(st.sampled_from(["text", "image", "audio"]), unique=True),
    caps=st.none()
    | st.lists(st.sampled_from(["streaming", "tool-calling", "agents"]), unique=True),
    limits=st.none() | st.tuples(st.integers(0, 10**7), st.integers(0, 10**6)),
)
def test_from_api_round_trip_property(
    model_id: str,
    tier: str,
    inputs: list[str],
    caps: list[str] | None,
    limits: tuple[int, int] | None,
) -> None:
    entry: dict[str, Any] = {
        "id": model_id,
        "rate_limit_tier": tier,
        "supported_input_modalities": inputs,
    }
    if caps is not None:
        entry["capabilities"] = caps
    if limits is not None:
        entry["limits"] = {"max_input_tokens": limits[0], "max_output_tokens": limits[1]}
    info = ModelInfo.from_api(entry)
    assert ModelInfo.from_api(info.to_api(include_private=True)) == info
    assert info.id == model_id and info.input_modalities == tuple(inputs)
    if caps is not None:
        assert info.capabilities == tuple(caps)
