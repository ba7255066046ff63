"""Leaves every layer may use: clocks, secret masking, URL secrets, service facts, tier limits.

Nothing here imports another part of the provider at module level. Import the modules
themselves (this ``__init__`` imports nothing, so loading the package stays cheap).
"""
