"""The wiring of route handlers: one bootstrap object per app, reached by type, and the
bearer guards services build on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, Request
from pydantic import SecretStr

from cauce_runtime import ServiceSettings, create_service_app, require_bearer, wired, wiring_of

from .test_app import running


@dataclass
class Plates:
    """A service's bootstrap object, as far as these tests need one."""

    token: SecretStr
    plates: list[str] = field(default_factory=list)
    #: How many times the guard and the handler were given the object, per request.
    given: list[int] = field(default_factory=list)


class OtherKind:
    pass


async def counted(plates: Annotated[Plates, Depends(wired(Plates))]) -> Plates:
    plates.given.append(1)
    return plates


PlatesDep = Annotated[Plates, Depends(counted)]


async def require_token(request: Request, plates: PlatesDep) -> None:
    require_bearer(request, plates.token, realm="cauce-plates", detail="plates token, please")


router = APIRouter(prefix="/plates", dependencies=[Depends(require_token)])


@router.post("/{plate}", status_code=201)
async def add_plate(plate: str, plates: PlatesDep) -> dict[str, list[str]]:
    plates.plates.append(plate)
    return {"plates": plates.plates}


async def test_handlers_and_guards_get_the_wired_object_once_per_request(
    settings: ServiceSettings,
) -> None:
    plates = Plates(SecretStr("s3cret"))
    app = create_service_app(settings, bus=None, wiring=plates, routers=[router])
    assert wiring_of(app, Plates) is plates
    async with running(app) as client:
        response = await client.post("/plates/ABC123", headers={"Authorization": "Bearer s3cret"})
        assert response.status_code == 201 and response.json() == {"plates": ["ABC123"]}
        # The guard and the handler share one resolution of the dependency.
        assert plates.given == [1]
        ready = await client.get("/readyz")
        assert ready.json() == {"status": "ready", "service": "runtime-test", "checks": {}}


def test_the_same_type_gives_the_same_dependency() -> None:
    # FastAPI resolves a dependency once per request only for the same callable.
    assert wired(Plates) is wired(Plates)
    assert wired(Plates) is not wired(OtherKind)


def test_an_unwired_kind_is_a_wiring_mistake(settings: ServiceSettings) -> None:
    app = create_service_app(settings, bus=None, wiring=Plates(SecretStr("x")))
    with pytest.raises(LookupError, match="no OtherKind is wired"):
        wiring_of(app, OtherKind)


@pytest.mark.parametrize(
    ("configured", "header"),
    [
        ("s3cret", None),
        ("s3cret", "Bearer wrong"),
        ("s3cret", "s3cret"),
        ("s3cret", "Basic s3cret"),
        ("", "Bearer "),
        ("", "Bearer"),
    ],
)
async def test_bearer_guard_refuses_with_401_problem(
    settings: ServiceSettings, configured: str, header: str | None
) -> None:
    app = create_service_app(
        settings, bus=None, wiring=Plates(SecretStr(configured)), routers=[router]
    )
    headers = {} if header is None else {"Authorization": header}
    async with running(app) as client:
        response = await client.post("/plates/ABC123", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="cauce-plates"'
    assert response.json()["detail"] == "plates token, please"


async def test_bearer_scheme_is_case_insensitive(settings: ServiceSettings) -> None:
    app = create_service_app(
        settings, bus=None, wiring=Plates(SecretStr("s3cret")), routers=[router]
    )
    async with running(app) as client:
        response = await client.post("/plates/XYZ", headers={"Authorization": "bearer s3cret"})
    assert response.status_code == 201
