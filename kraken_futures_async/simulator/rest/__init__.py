"""The twin's REST face: Kraken Futures' HTTP API around the engine, as an ASGI app.

``app`` routes requests with the package's endpoint table and renders answers and refusals
(the HTTP status and Kraken's envelope for each engine :class:`~..errors.Reason`); ``auth``
verifies ``Authent``, nonces and permissions; ``limits`` meters the rate budgets; ``faults``
injects the failures of a real exchange and network; ``body`` and ``form`` read requests;
``errors`` holds the face's own refusals; ``transport`` serves the app in-process to httpx and
``protocol`` over a socket through uvicorn. Retiring REST one day means deleting this folder
(the engine imports nothing from it).
"""
