"""GitHub's ``.prompt.yml`` files: reading them (``file``, with bounded YAML from ``yaml_input``)
and scoring replies (``evaluators``). Library code below the CLI: ``run`` and ``eval`` use it."""
