"""The FastAPI side of a service: the app factory and runner, problem+json, bearer
tokens, and how route handlers reach what the service's bootstrap built.

- :func:`create_service_app` (probes, metrics, problem+json, the bus in the lifespan;
  ``wiring=`` the service's bootstrap object), :func:`run`, :func:`serve`;
- :func:`wired` (``Annotated[Kind, Depends(wired(Kind))]``: an ``async def`` dependency
  giving the wired object) and :func:`wiring_of` (the same for exception handlers and
  tests): the only readers of ``app.state``;
- :func:`require_bearer`, which a service's module-level guard calls with the token
  from its settings; :func:`bearer_token_matches`;
- :func:`problem_response`, :func:`install_problem_handlers`;
- :data:`EVENT_STREAM`, the OpenAPI answer of a Server-Sent Events route.
"""

from cauce_runtime.web._app import create_service_app, run, serve, uvicorn_config
from cauce_runtime.web._bearer import bearer_token_matches, require_bearer
from cauce_runtime.web._event_streams import EVENT_STREAM
from cauce_runtime.web._problems import (
    PROBLEM_JSON,
    PROBLEM_TYPE_BASE,
    install_problem_handlers,
    problem_response,
)
from cauce_runtime.web._wiring import wire, wired, wiring_of

__all__ = [
    "EVENT_STREAM",
    "PROBLEM_JSON",
    "PROBLEM_TYPE_BASE",
    "bearer_token_matches",
    "create_service_app",
    "install_problem_handlers",
    "problem_response",
    "require_bearer",
    "run",
    "serve",
    "uvicorn_config",
    "wire",
    "wired",
    "wiring_of",
]
