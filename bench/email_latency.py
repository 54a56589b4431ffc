"""From a staff decision to the family's email accepted by an SMTP server, with a real
Celery worker: the time from the decision service returning (its transaction committed,
the event's task published) to the message arriving at an SMTP sink.

Goal (project issue): p95 under 2 s.

A decision writes a permit event (permits.services); on commit, a worker handles it
(notifications.events.handle_event): it issues and renders the letter's PDF, then queues
the family's email carrying it, which another task delivers. The worker is `celery -A
config worker -l info` as in production (default concurrency, persistent database
connections; devtools.live.Worker), reading the small data set portal_bench_10k
(bench/dataset.py, `LATENCY`, seeded again at every run), Redis database
support.BENCH_REDIS_DB, and delivering to an aiosmtpd sink (devtools.live.SmtpSink) in
this process. Decisions are made one at a time: each waits for its email, so nothing
queues.
"""

from __future__ import annotations

import logging
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import percentile, say

NAME = "email_latency"
TITLE = "Decision to email accepted by the SMTP sink, real Celery worker"

DECISIONS = 50
WARMUP = 4  # the first letters of each worker process load WeasyPrint's fonts
GOAL_P95_MS = 2000.0
TIMEOUT = 60.0


@dataclass
class Decision:
    kind: str  # "approve" or "deny"
    reference: str
    service_ms: float
    latency_ms: float
    letter_ms: float | None  # commit to the letter's PDF stored (Letter.rendered_at)
    size: int
    has_pdf: bool


def _prepare(count: int):
    """Open packets to decide: inter-district outgoing ones for approval (no seat
    needed) with every required document verified, and others to deny."""
    from applicants.models import User
    from permits.models import Document, Permit, PermitKind
    from permits.selectors import checklist
    from reviews.models import Role

    director = User.objects.filter(staff_roles__role=Role.DIRECTOR).order_by("pk").first()
    # Waiting for information, a packet can be neither approved nor denied.
    open_packets = Permit.objects.filter(
        status__in=[Permit.Status.SUBMITTED, Permit.Status.UNDER_REVIEW], denial_recommended_at=None
    )
    approvals = list(open_packets.filter(kind=PermitKind.INTER_OUT).select_related(
        "student", "reason").order_by("pk")[: (count + 1) // 2])
    denials = list(open_packets.exclude(kind=PermitKind.INTER_OUT).exclude(
        kind=PermitKind.INTRA, bullying_victim=True).order_by("pk")[: count // 2])
    if len(approvals) < (count + 1) // 2 or len(denials) < count // 2:
        raise RuntimeError(f"not enough open packets for {count} decisions")
    documents = []
    for permit in approvals:
        permit.documents.update(review=Document.Review.VERIFIED)
        for item in checklist(permit):
            documents.append(Document(
                permit=permit, document_type=item.document_type, file=f"bench/{permit.pk}.pdf",
                original_name="document.pdf", content_type="application/pdf", size=50_000,
                sha256="0" * 64, uploaded_by_id=permit.created_by_id,
                review=Document.Review.VERIFIED,
            ))
    Document.objects.bulk_create(documents)
    plan = []
    for i in range(count):
        plan.append(("approve", approvals[i // 2]) if i % 2 == 0 else ("deny", denials[i // 2]))
    return director, plan


def _decide(kind: str, permit, director, sink) -> Decision:
    from outbox.models import OutboxEmail
    from permits.models import Letter
    from permits.services import approve_permit, deny_permit

    arrived = len(sink.arrivals)
    started = time.perf_counter()
    if kind == "approve":
        approve_permit(permit_id=permit.pk, by=director, note="Bench approval")
    else:
        deny_permit(permit_id=permit.pk, by=director, reasons=["no_space"], note="Bench denial", final=True)
    committed, committed_wall = time.perf_counter(), time.time()
    # The worker handling the event queues the email (after the letter), another task
    # delivers it: the next message to arrive, named by the outbox row in its Message-ID.
    sink.wait_for(arrived + 1, TIMEOUT)
    message_id, arrival = list(sink.arrivals.items())[arrived]
    email = OutboxEmail.objects.filter(pk=int(message_id.removeprefix("<outbox-").split("@")[0])).first()
    template = "permit_approved" if kind == "approve" else "permit_denied"
    if email is None or email.template != template or email.about_id != permit.pk:
        raise RuntimeError(f"{kind} of {permit.reference}: unexpected message {message_id}")
    letter = Letter.objects.filter(pdf=email.attachment.name).only("rendered_at").first() if email.attachment else None
    letter_ms = None
    if letter is not None and letter.rendered_at is not None:
        letter_ms = (letter.rendered_at.timestamp() - committed_wall) * 1000
    return Decision(
        kind=kind, reference=permit.reference, service_ms=(committed - started) * 1000,
        latency_ms=(arrival.at - committed) * 1000, letter_ms=letter_ms, size=len(arrival.raw),
        has_pdf=b"application/pdf" in arrival.raw,
    )


def run(options) -> str:
    from bench import dataset, support
    from devtools.live import SmtpSink, Worker

    count = options.runs or DECISIONS
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per SMTP command
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-mail-"))
    decisions: list[Decision] = []
    concurrency = "?"
    with support.private_broker() as broker_url, support.use_database(dataset.LATENCY.database):
        data = dataset.ensure(dataset.LATENCY, reseed=True)  # decided packets stay decided
        director, plan = _prepare(WARMUP + count)
        sink = SmtpSink().start()
        worker = None
        try:
            (workdir / "media").mkdir()
            # As in production: default concurrency, persistent database connections.
            worker = Worker(
                email_url=sink.url, redis_url=broker_url, log_path=workdir / "worker.log",
                concurrency=None, standalone=False, conn_max_age=None, name="bench",
                extra_env={"PORTAL_MEDIA_ROOT": str(workdir / "media")},  # the letters' PDFs, removed afterwards
            ).start()
            concurrency = worker.concurrency()
            say(f"worker ready (concurrency {concurrency}), SMTP sink on port {sink.port}")
            for i, (kind, permit) in enumerate(plan):
                decision = _decide(kind, permit, director, sink)
                decisions.append(decision)
                if i < WARMUP or (i - WARMUP + 1) % 10 == 0:
                    say(f"{'warm-up' if i < WARMUP else f'{i - WARMUP + 1:>3}/{count}'} {kind:<7} "
                        f"{decision.reference}: {decision.latency_ms:6.0f} ms to the sink")
        except Exception:
            if worker is not None:
                say("worker log (end):\n" + worker.log()[-3000:])
            raise
        finally:
            if worker is not None:
                worker.stop()
            sink.stop()
            shutil.rmtree(workdir, ignore_errors=True)  # worker log and letter PDFs
            say("worker and SMTP sink stopped")
    return _report(data, decisions, count, concurrency)


def _stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), percentile(values, 95), max(values)


def _report(data, decisions: list[Decision], count: int, concurrency: str) -> str:
    warm, measured = decisions[:WARMUP], decisions[WARMUP:]
    rows = [
        ("All decisions", measured),
        ("Approvals (release letter)", [d for d in measured if d.kind == "approve"]),
        ("Denials (denial letter)", [d for d in measured if d.kind == "deny"]),
    ]
    median, p95, worst = _stats([d.latency_ms for d in measured])
    ok = p95 < GOAL_P95_MS
    say(f"{'PASS' if ok else 'FAIL'} p95 under {GOAL_P95_MS / 1000:g} s: median {median:.0f} ms, "
        f"p95 {p95:.0f} ms, max {worst:.0f} ms over {len(measured)} decisions")
    letters = [d.letter_ms for d in measured if d.letter_ms is not None]
    lines = [
        f"Data: `{data.database}`, {data.permits:,} packets ({data.open_permits:,} open), seeded "
        f"again for this run in {data.seconds:.0f} s. Worker: `celery -A config worker -l info` "
        f"(concurrency {concurrency}), persistent database connections, on that database and "
        "Redis database "
        f"{_redis_db()} of the bench; SMTP: an aiosmtpd sink in the bench process "
        "(`devtools/live.py`). The director approves (outgoing inter-district packets, documents "
        "verified) and denies packets in turn, one at a time through `permits.services`; "
        "each decision waits for its email before the next. *Latency* is from the service "
        "returning (transaction committed, the event's task published) to the sink accepting the "
        "message with the email's Message-ID `<outbox-{id}@permit-portal>`; every message "
        f"carries the decision letter as a PDF ({sum(d.has_pdf for d in measured)} of "
        f"{len(measured)}). {len(measured)} decisions after {len(warm)} warm-up decisions.",
        "",
        "| Decisions | n | Median (ms) | p95 (ms) | Max (ms) | Service call, median (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, group in rows:
        if not group:
            continue
        m, p, w = _stats([d.latency_ms for d in group])
        lines.append(f"| {label} | {len(group)} | {m:.0f} | {p:.0f} | {w:.0f} | "
                     f"{statistics.median(d.service_ms for d in group):.0f} |")
    lines.append(f"| Warm-up (first after the worker started) | {len(warm)} | "
                 f"{statistics.median(d.latency_ms for d in warm):.0f} | | "
                 f"{max(d.latency_ms for d in warm):.0f} | |")
    lines += [""]
    if letters:
        lm, lp, _ = _stats(letters)
        lines += [
            f"Of which the letter: its PDF is stored {lm:.0f} ms (median; p95 {lp:.0f} ms) after "
            "the commit (`Letter.rendered_at`, wall clock of the worker); the email waits for it.",
            "",
        ]
    lines += [
        "| Goal | Result | |",
        "|---|---|---|",
        f"| p95 from decision to email accepted under {GOAL_P95_MS / 1000:g} s | median "
        f"{median:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms "
        f"| {'met' if ok else '**not met**'} |",
        "",
        f"Message size: median {statistics.median(d.size for d in measured) / 1024:.0f} KiB.",
    ]
    return "\n".join(lines)


def _redis_db() -> int:
    from bench.support import BENCH_REDIS_DB

    return BENCH_REDIS_DB
