"""``make run``'s whole stack, once for the console's tests: the console at its URL, the
demo company's admin and agent with the passwords the launcher printed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from cauce_devstack.testing import free_ports, launched


@dataclass(frozen=True)
class ConsoleStack:
    ports: dict[str, int]
    #: role -> (e-mail, password), as the launcher printed them.
    logins: dict[str, tuple[str, str]]

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    @property
    def console(self) -> str:
        return self.url("console")

    def customer_writes(self, text: str, sender: str = "573001112233") -> None:
        sent = httpx.post(
            self.url("sandbox", "/sandbox/customer/send"),
            json={"text": text, "from": sender, "name": f"Cliente {sender[-4:]}"},
            timeout=10,
        )
        assert sent.status_code == 200 and sent.json()["gateway_status"] == 200, sent.text


LOGIN_LINE = re.compile(r"^\s+(\w+)\s+(\S+@\S+)\s+password: (\S+)$", re.MULTILINE)


@pytest.fixture(scope="package")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    ports = free_ports()
    with launched(tmp_path_factory.mktemp("console") / ".cauce", ports) as stack:
        output = stack.wait_ready(timeout=150)
        logins = {role: (email, pw) for role, email, pw in LOGIN_LINE.findall(output)}
        assert set(logins) == {"admin", "agent"}, output
        assert f"console: http://127.0.0.1:{ports['console']}" in output
        yield ConsoleStack(ports, logins)
