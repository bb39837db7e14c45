"""What ``python -m bench campaigns`` measured, and how it is printed (nothing judged
beyond printing a target beside its figure, and ``OVER LIMIT`` when a 1 s window at the
Graph fake held more sends than the number's limit)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.notifier import SendResult
from bench.report import machine
from bench.stats import percentile

#: The campaign's CSV target: 100,000 rows loaded through the API in 5 s at most.
CSV_TARGET_S = 5.0
CSV_TARGET_ROWS = 100_000


@dataclass(frozen=True)
class Latency:
    """Milliseconds from publishing a request to the Graph fake receiving its send."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, values_ms: list[float]) -> Latency:
        ordered = sorted(values_ms)
        return cls(
            count=len(ordered),
            p50_ms=percentile(ordered, 0.50),
            p99_ms=percentile(ordered, 0.99),
            max_ms=ordered[-1] if ordered else 0.0,
        )

    def line(self) -> str:
        return (
            f"p50 {self.p50_ms:7.1f} ms  p99 {self.p99_ms:7.1f} ms  max {self.max_ms:7.1f} ms"
            f"  ({self.count} replies)"
        )


@dataclass(frozen=True)
class CpuUse:
    """CPU time the notifier replicas used over a run, and the sends it paid for."""

    cpu_ms: tuple[float, ...]
    """Per replica, in the order they were started."""
    sends: int
    redeliveries: int = 0
    """JetStream deliveries of the run's requests after their first (a send that waits
    for its slot in JetStream is naked and delivered again)."""
    slots_missed: int = 0
    """Sends that woke too late for their send slot and reserved another (the slot they
    missed is left empty: a busy machine loses rate this way)."""

    def per_send(self) -> tuple[float, ...]:
        return tuple(ms / self.sends if self.sends else 0.0 for ms in self.cpu_ms)

    def line(self) -> str:
        each = "  ".join(f"replica {i}: {ms:.3f}" for i, ms in enumerate(self.per_send()))
        again = self.redeliveries / self.sends if self.sends else 0.0
        return (
            f"{each}  all: {sum(self.per_send()):.3f} CPU-ms/send ({self.sends} sends; "
            f"{again:.2f} redeliveries/send; {self.slots_missed} slots missed)"
        )


@dataclass(frozen=True)
class CampaignResult:
    recipients: int
    limit: float
    replicas: int
    reply_lane: bool
    """Whether the replies had a replica of their own (``CAUCE_SEND_LANES``)."""
    sent_to: int
    """Distinct recipients the fake accepted a template for."""
    duplicate_recipients: int
    duplicate_calls: int
    rate_limited: int
    max_attempts_in_1s: int
    """Sends and refused attempts on the number in its busiest 1 s window."""
    max_accepted_in_1s: int
    steady_s: float
    steady_rate: float
    """Every send on the number (campaign and replies) per second, steady state."""
    steady_campaign_rate: float
    start_to_last_send_s: float
    start_to_completed_s: float | None
    upload_s: float
    notifier_sent: int
    notifier_failed: int
    cpu: CpuUse

    @property
    def fraction(self) -> float:
        return self.steady_rate / self.limit


@dataclass(frozen=True)
class RepliesResult:
    rate: float
    alone: Latency
    during: Latency
    duplicates: int


@dataclass(frozen=True)
class OneOffResult:
    send: SendResult
    cpu: CpuUse


@dataclass(frozen=True)
class CsvResult:
    rows: int
    accepted: int
    rejected: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class CampaignsReport:
    campaign: CampaignResult
    replies: RepliesResult
    one_off: OneOffResult | None
    csv: CsvResult


def _replicas(c: CampaignResult) -> str:
    if c.reply_lane:
        return f"{c.replicas} notifier replicas sending campaigns + 1 sending the replies"
    return f"{c.replicas} notifier replicas sending both"


def render(report: CampaignsReport) -> str:
    c, r = report.campaign, report.replies
    over = c.max_attempts_in_1s > c.limit
    completed = f"{c.start_to_completed_s:.1f} s" if c.start_to_completed_s else "NOT COMPLETED"
    lines = [
        "cauce campaign benchmark",
        f"machine: {machine()}",
        "",
        f"campaign: {c.recipients} recipients, template pago_confirmado, one WhatsApp number "
        f"at {c.limit:g}/s, {_replicas(c)} (the Graph fake enforces the limit)",
        f"  achieved rate, steady state ({c.steady_s:.1f} s): {c.steady_rate:.1f} sends/s "
        f"= {c.fraction:.3f} of the limit (campaign alone {c.steady_campaign_rate:.1f}/s; "
        "replies are the rest)",
        f"  max sends in any 1 s window: {c.max_accepted_in_1s} accepted, "
        f"{c.max_attempts_in_1s} with refused attempts; limit {c.limit:g}"
        + ("   OVER LIMIT" if over else "   (within the limit)"),
        f"  429s from the fake: {c.rate_limited}",
        f"  recipients sent: {c.sent_to} of {c.recipients}; duplicates: "
        + (
            "0"
            if not c.duplicate_recipients
            else f"{c.duplicate_recipients} recipients sent more than once "
            f"({c.duplicate_calls} extra calls)   DUPLICATES"
        ),
        f"  notifier's stats: sent {c.notifier_sent}, failed {c.notifier_failed}",
        f"  total: start -> last send {c.start_to_last_send_s:.1f} s, start -> COMPLETED "
        f"{completed}; its CSV uploaded in {c.upload_s:.2f} s",
        "",
        f"bot replies on the same number, {r.rate:g}/s (one-off text requests to customers "
        "in their 24 h window; publish -> the fake receiving them)",
        f"  no campaign running:  {r.alone.line()}",
        f"  during the campaign:  {r.during.line()}",
    ]
    if r.duplicates:
        lines.append(f"  replies sent more than once: {r.duplicates}   DUPLICATES")
    lines += [
        "",
        "notifier CPU per send (user + system of each replica / sends on the number)",
        f"  campaign at {c.fraction:.3f} of the limit:  {c.cpu.line()}",
    ]
    if report.one_off is not None:
        one = report.one_off.send
        lines.append(
            f"  one-off backlog at {one.fraction:.3f} of the limit:  {report.one_off.cpu.line()}"
        )
        lines.append(
            f"  (one-off backlog: {one.run.messages} requests of the campaign's template queued,"
            " then drained; "
            f"{one.rate_limited} 429s, max {one.max_in_1s} in 1 s, "
            f"{one.accepted - one.requests_sent} duplicates)"
        )
    csv = report.csv
    target = (
        f"target <= {CSV_TARGET_S:g} s for {CSV_TARGET_ROWS:,} rows"
        if csv.rows == CSV_TARGET_ROWS
        else f"target <= {CSV_TARGET_S:g} s is for {CSV_TARGET_ROWS:,} rows: not comparable"
    )
    lines += [
        "",
        f"CSV upload through the API: {csv.rows:,} rows (+57300..., 2 variables)",
        f"  {csv.seconds:.2f} s = {csv.rows_per_s:,.0f} rows/s ({target}); "
        f"accepted {csv.accepted:,}, rejected {csv.rejected:,}",
    ]
    return "\n".join(lines)
