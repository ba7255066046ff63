"""One request: the attempt loop (pacing slot, send, map, retry, stream pump), its async twin,
the endpoint probes, embeddings and telemetry.

This ``__init__`` imports nothing (loading the package stays cheap): import the modules.
"""
