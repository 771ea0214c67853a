"""Fakes of the outside services, each an aiohttp server on 127.0.0.1 (faking the transport)."""
