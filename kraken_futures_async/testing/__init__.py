"""Testing your own code against the exchange twin: the pytest plugin and the twin's controls.

The fixtures (``kraken_twin``, ``kraken_session``, ``kraken_twin_server``) come with the
package through the ``pytest11`` entry point; see :mod:`kraken_futures_async.testing.plugin`.
Outside pytest, ``ControlledTwin()`` is the same twin with its :class:`TwinControl`.
"""

from .control import BASE_URL_ENV, ControlledTwin, ServedTwin, TwinControl

__all__ = ["BASE_URL_ENV", "ControlledTwin", "ServedTwin", "TwinControl"]
