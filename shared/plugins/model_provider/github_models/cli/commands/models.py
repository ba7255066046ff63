"""``jaato-github-models models``: the model table (static catalog, or the live one)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..arguments import add_command, add_connection_options
from ..output import Console, format_table

if TYPE_CHECKING:  # the catalog loads when the command runs, not for --help
    from ...models.catalog import Catalog, ModelInfo

__all__ = ["model_row", "register", "run"]

_HEADERS = ("ID", "PUBLISHER", "TIER", "CONTEXT", "MAX OUT", "MODALITIES", "CAPABILITIES")


def model_row(info: ModelInfo) -> list[str]:
    """One table row: id, publisher, tier, context window, max output (``unknown`` where no
    source gives it), modalities, capabilities. Raises nothing."""
    modalities = f"{'+'.join(info.input_modalities) or '-'} -> " \
                 f"{'+'.join(info.output_modalities) or '-'}"
    return [info.id, info.publisher or "-", info.tier or "-", _tokens(info.context_window),
            _tokens(info.max_output_tokens), modalities, ", ".join(info.capabilities) or "-"]


def _tokens(count: int) -> str:
    """A token limit for the table; 0 is a limit no source gives: ``unknown``."""
    return f"{count:,}" if count > 0 else "unknown"


def _live_catalog(args: argparse.Namespace, console: Console) -> Catalog:
    from ... import create_provider
    from ..._host import ProviderConfig
    from ...models.live_catalog import enable_live_catalog
    from ..connect import connection_extra

    provider = create_provider(ProviderConfig(extra=connection_extra(args)))
    try:
        console.add_secret(provider.settings.token)
        live = enable_live_catalog(provider, load_now=not args.refresh)
        # a failed fetch is reported once, by the live catalog's own warning (what failed,
        # what is listed instead)
        return live.refresh(force=True) if args.refresh else live.current()
    finally:
        provider.shutdown()


def run(args: argparse.Namespace, console: Console) -> int:
    """The static catalog (no token or network needed), or the endpoint's live catalog with
    --live.

    ``--json`` prints later-format catalog entries. Returns the exit code.

    Raises:
        GitHubModelsError: with ``--live``, when the provider cannot be configured (no token).
    """
    from ...models.catalog import static_catalog

    if args.refresh and not args.live:
        console.error("--refresh re-fetches the endpoint's live catalog, so it needs --live: "
                      "run `jaato-github-models models --live --refresh`")
        return 2
    catalog = _live_catalog(args, console) if args.live else static_catalog()
    models = [m for m in catalog if m.id in set(catalog.ids(args.prefix))]
    if args.json:
        console.json([m.to_api() for m in models])
        return 0
    if not models:
        console.note(f"no model id starts with {args.prefix!r}; try without --prefix")
        return 1
    table = format_table(_HEADERS, [model_row(m) for m in models])
    header, _, body = table.partition("\n")
    console.print(console.style(header, "bold"))
    if body:
        console.print(body)
    console.note(f"{len(models)} models ({catalog.source})")
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``models`` to the CLI's sub-parsers."""
    models = add_command(sub, common, "models", "list models and their limits", run)
    models.add_argument("--prefix", metavar="P", help="only ids starting with P (e.g. openai/)")
    models.add_argument("--json", action="store_true",
                        help="print a JSON array of catalog entries (later API format)")
    models.add_argument("--live", action="store_true",
                        help="fetch GET /catalog/models from the endpoint (cached; falls back "
                             "to the static catalog)")
    models.add_argument("--refresh", action="store_true",
                        help="with --live: ignore the cache and fetch now")
    add_connection_options(models)
