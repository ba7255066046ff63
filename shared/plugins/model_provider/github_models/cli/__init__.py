"""The ``jaato-github-models`` command line (``python -m`` this package runs it).

``main`` holds the parser, the dispatch and the error policy; ``commands/`` one module per
command, each with one ``register()``; the other modules here are the pieces commands share
(arguments, request options, console output, advice, the chat log, the connection, the chat
runner, the doctor's checks, prompt runs). Nothing is imported here: loading a module of this
folder loads only what it needs.
"""
