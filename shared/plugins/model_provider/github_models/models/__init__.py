"""The models: the static catalog, each model's traits, prices and limits, the live catalog.

This ``__init__`` imports nothing (loading the package stays cheap): import the modules.
"""
