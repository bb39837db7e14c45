"""The FastAPI side of a service: the app factory and runner, problem+json, bearer
tokens, and how route handlers reach what the service's bootstrap built."""

from cauce_runtime.web._app import create_service_app, run, serve, uvicorn_config
from cauce_runtime.web._bearer import bearer_guard, bearer_token_matches
from cauce_runtime.web._problems import (
    PROBLEM_JSON,
    PROBLEM_TYPE_BASE,
    install_problem_handlers,
    problem_response,
)

__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_TYPE_BASE",
    "bearer_guard",
    "bearer_token_matches",
    "create_service_app",
    "install_problem_handlers",
    "problem_response",
    "run",
    "serve",
    "uvicorn_config",
]
