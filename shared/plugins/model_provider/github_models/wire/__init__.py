"""Sans-IO wire work: building the request, reading the reply and the SSE stream, the history.

Nothing here sends a byte. This ``__init__`` imports nothing: import the modules.
"""
