"""``python -m cauce_devstack demo`` (``make demo``): the demo against the running stack,
or against one it starts (and stops) itself when nothing answers on the ports."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

import httpx

from cauce_devstack.demo.customer import DemoFailed
from cauce_devstack.demo.script import DEMO_PLATE, DemoResult, run_demo
from cauce_devstack.stack import StackConfig
from cauce_devstack.testing import launched

LOOPBACK = "127.0.0.1"


def _stack_answers(config: StackConfig) -> bool:
    for name in ("gateway", "sandbox", "conversation", "payments", "notifier"):
        try:
            response = httpx.get(f"http://{LOOPBACK}:{config.ports[name]}/readyz", timeout=2)
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
    return True


def demo(
    home: Path | None = None, base_port: int | None = None, *, out: TextIO = sys.stdout
) -> int:
    config = StackConfig.create(home, base_port=base_port)
    sandbox_url = f"http://{LOOPBACK}:{config.ports['sandbox']}"
    if _stack_answers(config):
        print(f"cauce demo: using the running stack ({config.home})", file=out)
        return _play(sandbox_url, config.span_file, out)
    print("cauce demo: no stack answering; starting one (make run) for the demo ...", file=out)
    with launched(config.home, config.ports, keep_mongodb_url=True) as stack:
        stack.wait_ready(timeout=180)
        code = _play(sandbox_url, config.span_file, out)
        stack.interrupt()
        return code


def _play(sandbox_url: str, span_file: Path, out: TextIO) -> int:
    try:
        result = asyncio.run(run_demo(sandbox_url, span_file))
    except DemoFailed as error:
        print(f"cauce demo failed: {error}", file=out)
        return 1
    print(render(result), file=out)
    return 0


def render(result: DemoResult) -> str:
    lines = [
        "",
        f"=== The customer's phone (plate {DEMO_PLATE}) ===",
        result.transcript,
        "",
    ]
    if result.trace_id:
        lines += [
            f"=== Trace {result.trace_id}: the turn where the customer chose to pay ===",
            *result.trace_tree,
            "",
            f"(make traces TRACE={result.trace_id} prints it again)",
        ]
    else:
        lines.append("(no trace of the paying turn found in the span file)")
    return "\n".join(lines)
