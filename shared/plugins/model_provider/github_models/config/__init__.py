"""Configuration: every read of a setting (arguments, environment, ``.env``), its checks, the
endpoint URL and its kind, request options, Entra ID, the chosen model.

This ``__init__`` imports nothing (loading the package stays cheap): import the modules.
"""
