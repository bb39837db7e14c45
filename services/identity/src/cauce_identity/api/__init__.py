"""The identity HTTP API, at the seed's paths: ``/api/auth``, ``/api/companies``,
``/api/users``, ``/api/roles``, plus ``/api/api-keys`` and the JWKS."""
