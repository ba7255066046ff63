"""The transport layer: the only azure-core imports (``config/auth.py`` imports
``azure-identity``'s credential when asked to). ``transport.py`` (sync), ``transport_async.py``
(its aio twin), ``pipeline.py`` (the headers and policies every request runs through),
``body.py`` (the body cap), ``clients.py`` (which client they send through),
``azure_boundary.py`` (every azure-core exception -> ``TransportFailure``), ``urllib3_reads.py``.
Import the modules directly: this stays empty."""
