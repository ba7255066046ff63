"""The transport layer: the only azure imports. ``transport.py`` (sync), ``transport_async.py``
(its aio twin), ``clients.py`` (which client they send through), ``azure_boundary.py`` (every
azure-core exception -> ``TransportFailure``). Import the modules directly: this stays empty."""
