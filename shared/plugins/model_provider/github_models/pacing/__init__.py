"""Client-side pacing to the published tier limits, alone or shared through a Redis/Valkey store.

This ``__init__`` imports nothing (loading the package stays cheap): import the modules.
"""
