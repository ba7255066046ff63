"""Measure count_tokens' estimate against the real OpenAI tokenizers, on real text.

The provider cannot download tokenizer vocabularies at run time, so ``count_tokens`` estimates
(see ``github_models/wire/tokens.py``). This developer tool measures how far off the estimate
is, using
the npm package ``gpt-tokenizer`` (which bundles the o200k_base and cl100k_base encodings) as the
reference, on the project's own docs, README and Python source (real prose and code) plus a few
non-English paragraphs. Run it after changing the estimator and update docs/token-counting.md::

    npm install --prefix /tmp/tok gpt-tokenizer@4
    python tools/measure_token_estimate.py --node-modules /tmp/tok/node_modules
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from pathlib import Path

from shared.plugins.model_provider.github_models.wire.tokens import estimate_tokens

ROOT = Path(__file__).resolve().parents[1]

OTHER_LANGUAGES = {
    "french": "La météo de demain annonce des averses sur Paris en matinée, puis des éclaircies "
              "l'après-midi. Les températures resteront fraîches pour la saison.",
    "german": "Die Bundesregierung hat heute neue Maßnahmen zur Förderung erneuerbarer Energien "
              "vorgestellt, darunter Steuererleichterungen für Solaranlagen.",
    "spanish": "El equipo de desarrollo publicó una nueva versión con mejoras de rendimiento y "
               "correcciones de errores en el módulo de autenticación.",
    "japanese": "明日の東京は曇りのち雨で、最高気温は十八度の予想です。傘をお持ちください。",
    "chinese": "这个项目提供了一个本地模拟器，可以在没有网络的情况下运行所有测试。",
}

_NODE = r"""
const enc = {o200k: require('gpt-tokenizer/encoding/o200k_base'),
             cl100k: require('gpt-tokenizer/encoding/cl100k_base')};
let data = ''; process.stdin.on('data', d => data += d);
process.stdin.on('end', () => {
  const texts = JSON.parse(data);
  console.log(JSON.stringify(texts.map(t => ({o200k: enc.o200k.encode(t).length,
                                               cl100k: enc.cl100k.encode(t).length}))));
});
"""


def samples() -> dict[str, str]:
    """Real text by kind: docs prose (markdown), Python source, other languages."""
    out = {f"docs/{p.name}": p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))}
    out["README.md"] = (ROOT / "README.md").read_text()
    pkg = ROOT / "shared" / "plugins" / "model_provider" / "github_models"
    for name in ("provider.py", "core.py", "calls.py", "converters.py", "env.py"):
        out[f"source/{name}"] = (pkg / name).read_text()
    out.update({f"lang/{k}": v for k, v in OTHER_LANGUAGES.items()})
    return out


def main() -> None:
    """Print a table of estimate vs real counts and the error summary per kind."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", required=True, type=Path)
    args = parser.parse_args()
    texts = samples()
    result = subprocess.run(["node", "-e", _NODE], input=json.dumps(list(texts.values())),
                            capture_output=True, text=True, check=True,
                            env={"NODE_PATH": str(args.node_modules), "PATH": "/usr/bin:/bin"})
    real = json.loads(result.stdout)
    rows, errors = [], {}
    for (name, text), counts in zip(texts.items(), real, strict=True):
        est = estimate_tokens(text)
        kind = name.split("/")[0] if "/" in name else "docs"
        for encoding in ("o200k", "cl100k"):
            errors.setdefault((kind, encoding), []).append((est - counts[encoding])
                                                          / counts[encoding])
        rows.append((name, len(text), est, counts["o200k"], counts["cl100k"]))
    print("| text | chars | estimate | o200k | cl100k |\n|---|---|---|---|---|")
    for name, chars, est, o200k, cl100k in rows:
        print(f"| {name} | {chars} | {est} | {o200k} | {cl100k} |")
    print("\n| kind | encoding | mean error | mean abs error | worst |\n|---|---|---|---|---|")
    for (kind, encoding), errs in sorted(errors.items()):
        print(f"| {kind} | {encoding} | {statistics.mean(errs):+.1%} | "
              f"{statistics.mean(abs(e) for e in errs):.1%} | "
              f"{max(errs, key=abs):+.1%} |")


if __name__ == "__main__":
    main()
