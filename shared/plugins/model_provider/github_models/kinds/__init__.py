"""Endpoint kinds: one class per kind of endpoint (GitHub-shaped, legacy, OpenAI v1, Foundry,
gateway) and the registry that picks one; every difference between kinds lives here.

This ``__init__`` imports nothing (loading the package stays cheap): import the modules.
"""
