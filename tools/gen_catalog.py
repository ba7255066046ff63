#!/usr/bin/env python3
"""Build ``github_models/data/catalog.json``, the static model catalog, from the reference facts.

Run by developers (never at runtime)::

    python tools/gen_catalog.py [--shared ../shared] [--output PATH] [--check]

Output: the LATER catalog format (see ``ModelInfo.to_api``) plus private ``x_`` keys, one entry per
model, sorted by id (case-insensitively), ``indent=1``, trailing newline. Same input -> same bytes.

Sources (all under ``--shared``/wire) and how each field is filled
-------------------------------------------------------------------
* ``catalog_models.json``: the only complete real dump (2025-05-17, early format, 56 models). It is
  authoritative for id, name, publisher, rate_limit_tier, modalities and tags (tags are stripped:
  the dump has " multilingual"). ``summary`` is always ``""``: the API serves the prose, we do not.
* ``catalog_models_later_format_examples.json``: later-format entries. For registry, version,
  capabilities, limits and html_url, the LAST example in the file carrying the field wins (the file
  runs docs example -> 2025 live paste -> 2026-07-13 live sample, i.e. oldest to newest).
* ``catalog_supplement_marketplace_2025-09-09.json`` (marketplace scrape, not the API): registry,
  html_url (``https://github.com`` + model_url) and limits for models the examples do not cover.
  Matching, case-insensitive, first hit wins: (1) the dump's bare name equals the supplement's
  ``original_name`` or ``id``; (2) the bare name with "." -> "-" equals them (the marketplace slugs
  ``gpt-4.1`` as ``gpt-4-1``, ``Llama-3.3`` as ``Llama-3-3``); (3) the dump's ``name`` equals the
  supplement's ``name``. Models the supplement lacks (Phi-3, Llama 3/3.1-70B, the undated Command
  R/R+) get the registry every supplement model of their publisher shares (Microsoft -> azureml,
  Meta -> azureml-meta, ...); their html_url stays ``""`` (unknown, never guessed).
* ``chat_nonstream.jsonl``: the observed "requested id -> dated deployment" pairs
  (``gpt-4o`` -> ``gpt-4o-2024-11-20``) become ``x_deployment``; pairs are only kept when the
  deployment is ``<bare name>-YYYY-MM-DD``. For registry ``azure-openai`` the date is the model
  ``version`` (the docs example agrees: gpt-4.1 -> 2025-04-14); other versions stay ``""``
  (unknown: azureml registries number versions, and no number was published).
* ``pricing.md``: multiplier tables -> ``x_pricing`` ``{input, cached_input, output}`` (N/A ->
  null). Rows are matched to models by name or bare id (case- and space-insensitive), plus
  ``_PRICING_ALIASES`` for names the docs spell differently. The latest table wins; the earlier
  table only adds its Phi-3 rows. Every row must match a model, or the generator fails.

Limits: later-format example first, then the supplement, then ``_CARD_LIMITS`` (the window the
model's published card states; the output limit only where the publisher states one, else 0),
and nothing else: a limit no source gives is 0, "unknown", never invented. ``x_limits_source``
cites the source of each entry's limits: ``later-format-example`` | ``marketplace-2025-09-09`` |
``model card: <where and what it says>``.

Capabilities (when no example gives them) and ``x_reasoning``, ``x_token_param``,
``x_supports_temperature``, ``x_supports_system``, ``x_structured_output`` come from the id rule
table ``model_traits.TRAIT_RULES`` (the runtime uses it for live entries too), whose rules are:
o1-mini/o1-preview: reasoning, max_completion_tokens, no temperature, no system message, no
streaming, no tools (gh-models notes); o1/o3/o3-mini/o4-mini/gpt-5/-mini/-nano: reasoning,
max_completion_tokens, no temperature, json_schema, tools; gpt-5-chat: not reasoning but
max_completion_tokens, temperature, json_schema, tools; gpt-4o/-mini, gpt-4.1/-mini/-nano:
json_schema, tools; DeepSeek-R1(-0528), MAI-DS-R1, Phi-4(-mini)-reasoning: reasoning, streaming,
no tools; grok-3-mini: reasoning, tools; grok-3, Mistral/Codestral/Ministral, Cohere Command: tools
(tool support as the Azure model gallery listed it, via llm-github-models
tools/models.fragment.md @ 0f749cea); embeddings: no streaming, no tools; everything else:
streaming only.

Models in the supplement but not in the dump are added only from ``_ADDED``, which gives each a
checked ``publisher/name`` id, tier (rate_limits.md table A: each has its own special row, i.e.
``custom``) and input modalities; ``x_source`` records every entry's provenance. A supplement
model neither matched nor in ``_ADDED`` fails the run, so nothing is dropped silently.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from shared.plugins.model_provider.github_models.models.catalog import ModelInfo  # noqa: E402

OUTPUT = REPO / "shared/plugins/model_provider/github_models/data/catalog.json"
DEFAULT_SHARED = REPO.parent / "shared"

DUMP_SOURCE = "catalog_models.json (complete GET /catalog/models dump, 2025-05-17)"
SUPPLEMENT_SOURCE = "marketplace-2025-09-09"
EXAMPLE_FIELDS = ("registry", "version", "capabilities", "limits", "html_url")
MARKETPLACE = "https://github.com"

# Supplement original_name -> (id, rate_limit_tier, input modalities, provenance).
# Publisher slugs follow the dump (OpenAI -> openai, DeepSeek -> deepseek); xAI has no model in the
# dump: its GitHub Models ids were xai/grok-3 and xai/grok-3-mini. Tiers: rate_limits.md table A
# gives gpt-5 (with o1/o3), gpt-5-mini/-nano/-chat (with o1-mini...), DeepSeek-R1-0528 (with R1),
# Grok-3 and Grok-3-Mini their own rows, which the catalog calls "custom" (table C). Input
# modalities: the publishers' model cards (gpt-5 family: text+image; grok-3, R1: text).
_ADDED: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "gpt-5": ("openai/gpt-5", "custom", ("text", "image"), "rate_limits.md A: o1, o3, and gpt-5"),
    "gpt-5-mini": ("openai/gpt-5-mini", "custom", ("text", "image"), "rate_limits.md A: o1-mini…"),
    "gpt-5-nano": ("openai/gpt-5-nano", "custom", ("text", "image"), "rate_limits.md A: o1-mini…"),
    "gpt-5-chat": ("openai/gpt-5-chat", "custom", ("text", "image"), "rate_limits.md A: o1-mini…"),
    "grok-3": ("xai/grok-3", "custom", ("text",), "rate_limits.md A: xAI Grok-3"),
    "grok-3-mini": ("xai/grok-3-mini", "custom", ("text",), "rate_limits.md A: xAI Grok-3-Mini"),
    "deepseek-r1-0528": (
        "deepseek/DeepSeek-R1-0528",
        "custom",
        ("text",),
        "rate_limits.md A: DeepSeek-R1, DeepSeek-R1-0528, and MAI-DS-R1",
    ),
}

# Model id -> (window, output limit or 0 = not published, citation): the models the service's
# catalog gave no limits for (the 2025-05-17 dump is early-format; the supplement lacks them).
_PHI3_CARD = ("model card (huggingface.co/microsoft/{0}): context length {1}; "
              "config.json max_position_embeddings {2}; no output limit stated")
_CARD_LIMITS: dict[str, tuple[int, int, str]] = {
    "cohere/Cohere-command-r": (128000, 4000, "Cohere model docs (docs.cohere.com/docs/command-r): "
                                "context length 128k, maximum output tokens 4k"),
    "cohere/Cohere-command-r-plus": (128000, 4000, "Cohere model docs (docs.cohere.com/docs/"
                                     "command-r-plus): context length 128k, maximum output "
                                     "tokens 4k"),
    "meta/Meta-Llama-3-70B-Instruct": (8192, 0, "model card (huggingface.co/meta-llama/"
                                       "Meta-Llama-3-70B-Instruct): context length 8k; "
                                       "config.json max_position_embeddings 8192"),
    "meta/Meta-Llama-3-8B-Instruct": (8192, 0, "model card (huggingface.co/meta-llama/"
                                      "Meta-Llama-3-8B-Instruct): context length 8k; "
                                      "config.json max_position_embeddings 8192"),
    "meta/Meta-Llama-3.1-70B-Instruct": (131072, 0, "model card (huggingface.co/meta-llama/"
                                         "Llama-3.1-70B-Instruct): context length 128k; "
                                         "config.json max_position_embeddings 131072"),
    **{f"microsoft/{name}": (window, 0, _PHI3_CARD.format(name, label, window))
       for name, label, window in (
           ("Phi-3-medium-128k-instruct", "128K", 131072),
           ("Phi-3-medium-4k-instruct", "4K", 4096),
           ("Phi-3-mini-128k-instruct", "128K", 131072),
           ("Phi-3-mini-4k-instruct", "4K", 4096),
           ("Phi-3-small-128k-instruct", "128K", 131072),
           ("Phi-3-small-8k-instruct", "8K", 8192),
           ("Phi-3.5-mini-instruct", "128K", 131072),
           ("Phi-3.5-MoE-instruct", "128K", 131072),
           ("Phi-3.5-vision-instruct", "128K", 131072))},
}

# pricing.md row name -> model id, where neither name nor bare id matches.
_PRICING_ALIASES = {
    "llama 4 maverick 17b instruct fp8": "meta/llama-4-maverick-17b-128e-instruct-fp8",
}

_DEPLOYMENT_PAIR = re.compile(r"'?([\w./-]+)'?\s*→\s*(?:model\s+)?'?([\w.-]+)'?")
_DATED = re.compile(r"-(\d{4}-\d\d-\d\d)$")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _bare(model_id: str) -> str:
    return model_id.rsplit("/", 1)[-1]


def _load(shared: Path, name: str) -> Any:
    return json.loads((shared / "wire" / name).read_text("utf-8"))


def _example_fields(shared: Path) -> dict[str, dict[str, Any]]:
    """Model id (casefolded) -> later-format fields; later examples override earlier ones."""
    out: dict[str, dict[str, Any]] = {}
    for example in _load(shared, "catalog_models_later_format_examples.json"):
        entry = example.get("entry", {})
        if "id" not in entry:
            continue  # the gh-models field list, not a model
        fields = out.setdefault(entry["id"].casefold(), {})
        fields.update({k: entry[k] for k in EXAMPLE_FIELDS if k in entry})
    return out


def _supplement_match(dump_entry: dict[str, Any], supplement: list[dict[str, Any]]) -> Any:
    bare = _bare(dump_entry["id"]).casefold()
    for wanted, keys in (
        (bare, ("original_name", "id")),
        (bare.replace(".", "-"), ("original_name", "id")),
        (_norm(dump_entry["name"]), ("name",)),
    ):
        for item in supplement:
            if any(_norm(str(item.get(k, ""))) == wanted for k in keys):
                return item
    return None


def _publisher_registries(supplement: list[dict[str, Any]]) -> dict[str, str]:
    """Publisher -> registry, for publishers whose supplement models all share one registry."""
    seen: dict[str, set[str]] = {}
    for item in supplement:
        seen.setdefault(item["publisher"], set()).add(item["registry"])
    return {pub: regs.pop() for pub, regs in seen.items() if len(regs) == 1}


def _deployments(shared: Path) -> dict[str, str]:
    """Bare name (casefolded) -> dated deployment, from the observations."""
    out: dict[str, str] = {}
    for line in (shared / "wire" / "chat_nonstream.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line) if line.strip() else {}
        for left, right in _DEPLOYMENT_PAIR.findall(str(record.get("observation") or "")):
            bare, right = _bare(left), right.rstrip(".")  # a pair may end a sentence
            if right.casefold().startswith(bare.casefold() + "-") and _DATED.search(right):
                out[bare.casefold()] = right
    return out


def _pricing_rows(shared: Path) -> dict[str, dict[str, float | None]]:
    """Normalised model name -> multipliers; a row seen earlier in the file (latest table) wins."""
    rows: dict[str, dict[str, float | None]] = {}
    for line in (shared / "wire" / "pricing.md").read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not re.fullmatch(r"[\d.]+", cells[1]):
            continue
        cached = None if cells[2].upper() == "N/A" else float(cells[2])
        rows.setdefault(
            _norm(cells[0]),
            {"input": float(cells[1]), "cached_input": cached, "output": float(cells[3])},
        )
    return rows


def build(shared: Path) -> list[dict[str, Any]]:
    """Every catalog entry (later format + ``x_`` keys), sorted by id.

    Raises:
        SystemExit: a pricing row or a supplement model cannot be placed.
    """
    dump: list[dict[str, Any]] = _load(shared, "catalog_models.json")
    supplement: list[dict[str, Any]] = _load(
        shared, "catalog_supplement_marketplace_2025-09-09.json"
    )
    examples = _example_fields(shared)
    deployments = _deployments(shared)
    registries = _publisher_registries(supplement)

    partial: list[tuple[dict[str, Any], str, str]] = []  # (entry, limits source, provenance)
    used: set[int] = set()
    for item in dump:
        entry = {k: item[k] for k in item if k != "summary"}
        match = _supplement_match(item, supplement)
        if match is not None:
            used.add(id(match))
        partial.append((entry, _fill(entry, match, examples, registries), DUMP_SOURCE))
    for item in supplement:
        if id(item) in used:
            continue
        key = str(item["original_name"]).casefold()
        if key not in _ADDED:
            raise SystemExit(f"supplement model {item['id']!r} is neither in the dump nor _ADDED")
        model_id, tier, inputs, why = _ADDED[key]
        entry = {
            "id": model_id,
            "name": item["name"],
            "publisher": item["publisher"],
            "rate_limit_tier": tier,
            "supported_input_modalities": list(inputs),
            "supported_output_modalities": ["text"],
            "tags": item["tags"],
        }
        provenance = f"{SUPPLEMENT_SOURCE} supplement (not in the 2025-05-17 dump); tier: {why}"
        partial.append((entry, _fill(entry, item, examples, registries), provenance))

    by_id = {e["id"].casefold(): e for e, _, _ in partial}
    _add_pricing(shared, by_id)
    out = []
    for entry, limits_source, provenance in partial:
        deployment = deployments.get(_bare(entry["id"]).casefold())
        if deployment:
            entry["x_deployment"] = deployment
            if entry.get("registry") == "azure-openai" and not entry.get("version"):
                entry["version"] = _DATED.search(deployment).group(1)  # type: ignore[union-attr]
        final = ModelInfo.from_api(entry).to_api(include_private=True)
        final["x_limits_source"] = limits_source
        final["x_source"] = provenance
        out.append(final)
    return sorted(out, key=lambda e: (e["id"].casefold(), e["id"]))


def _fill(
    entry: dict[str, Any],
    match: dict[str, Any] | None,
    examples: dict[str, dict[str, Any]],
    registries: dict[str, str],
) -> str:
    """Add registry/html_url/limits/... to ``entry``; return the limits source."""
    if entry["publisher"] in registries:
        entry["registry"] = registries[entry["publisher"]]
    if match is not None:
        entry["registry"] = match["registry"]
        entry["html_url"] = MARKETPLACE + match["model_url"]
    known = examples.get(entry["id"].casefold(), {})
    entry.update(known)
    if "limits" in known:
        return "later-format-example"
    if match is not None:
        entry["limits"] = {
            "max_input_tokens": int(match["max_input_tokens"]),
            "max_output_tokens": int(match["max_output_tokens"]),
        }
        return SUPPLEMENT_SOURCE
    card = _CARD_LIMITS.get(entry["id"])
    window, output, source = card if card else (0, 0, "unknown: no catalog or card gives them")
    entry["limits"] = {"max_input_tokens": window, "max_output_tokens": output}
    return source


def _add_pricing(shared: Path, by_id: dict[str, dict[str, Any]]) -> None:
    names: dict[str, str] = {}
    for key, entry in by_id.items():
        names.setdefault(_norm(entry["name"]), key)
        names.setdefault(_bare(key), key)
    for row_name, pricing in _pricing_rows(shared).items():
        key = _PRICING_ALIASES.get(row_name) or names.get(row_name, "")
        if key not in by_id:
            raise SystemExit(f"pricing row {row_name!r} matches no model")
        by_id[key]["x_pricing"] = pricing


def render(entries: list[dict[str, Any]]) -> str:
    """The file text: ``indent=1``, non-ASCII kept, trailing newline."""
    return json.dumps(entries, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or, with ``--check``, compare) the catalog. Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="reference dir")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output is stale")
    args = parser.parse_args(argv)
    text = render(build(args.shared))
    if args.check:
        current = args.output.read_text("utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run tools/gen_catalog.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, "utf-8")
    print(f"wrote {len(json.loads(text))} models to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
