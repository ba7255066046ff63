"""The CLI's commands, one module each: ``register(sub, common)`` adds the command's parser and
binds its handler (``func``); ``cli.main.COMMANDS`` lists them in ``--help`` order.

A command module loads cheaply (argparse and the CLI's small pieces): what the handler needs
(the provider, the errors, the log) is imported inside the handler, so ``--help`` stays quick.
"""
