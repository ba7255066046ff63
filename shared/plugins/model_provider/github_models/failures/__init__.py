"""Failures: reading a failure's status, headers and body, deciding its kind, the 429 readers and
retry policy, and the error classes and messages (``errors`` at the package top is their public
home, the module jaato imports).

This ``__init__`` imports nothing (loading the package stays cheap): import the modules.
"""
