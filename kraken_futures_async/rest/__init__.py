"""Everything that knows Kraken's REST API: the endpoint table (routes, costs, envelopes),
wire encoding, envelope reading, the request pipeline, body limits, pagination by
continuation token and the transports under ``httpx``.

When Kraken switches the Derivatives REST API off, this package is what goes.
"""
