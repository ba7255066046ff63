"""A turn: preparing the request, sending it through the runner, recording the reply; the
provider's state (``core``), what ``initialize`` wires, accounting and budgets.

This ``__init__`` imports nothing (loading the package stays cheap): import the modules.
"""
