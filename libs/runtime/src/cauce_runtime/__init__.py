"""What every cauce service shares: bus, consumers, settings, telemetry, logs, app.

- :mod:`cauce_runtime.errors`: ``CauceError``, ``TransientError``, ``PermanentError``,
  ``BusUnavailable``, ``ProvisioningError``;
- :mod:`cauce_runtime.settings`: ``ServiceSettings`` (``CAUCE_*``, secret files,
  placeholder secrets refused outside dev/test);
- :mod:`cauce_runtime.bus`: ``Bus`` (connect, provision, publish with PubAck);
- :mod:`cauce_runtime.consumers`: ``@consumer(bus, spec, Model)``, ``Delivery``;
- :mod:`cauce_runtime.telemetry`: ``setup_telemetry``, ``inject_headers``,
  ``extract_context``; ``python -m cauce_runtime.traces`` prints a trace tree;
- :mod:`cauce_runtime.logging`: ``configure_logging``, ``mask_phone``;
- :mod:`cauce_runtime.app`: ``create_service_app``, ``serve``;
  :mod:`cauce_runtime.problems`: ``problem_response``.
"""
