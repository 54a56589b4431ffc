"""The open-enrollment staff desk: the cycle and its drawing, the priority claims, and
the lottery's public record."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from enrollment import lottery
from enrollment.models import Cycle, EnrollmentEvent, Offer, PriorityClaim, Round, Simulation
from enrollment.services import Claim
from permits import clock

from ..conftest import login
from .conftest import DIGITS, SECRET, committed
from .test_services import apply, drawn

OVERVIEW = reverse("staff_enrollment")
CLAIMS = reverse("staff_enrollment_claims")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def past_deadline(cycle: Cycle) -> Cycle:
    """The window closed yesterday; the drawing is still to come."""
    today = clock.today()
    Cycle.objects.filter(pk=cycle.pk).update(
        applications_open_on=today - timedelta(days=20), applications_close_on=today - timedelta(days=1)
    )
    cycle.refresh_from_db()
    return cycle


def frozen(cycle: Cycle, by) -> Round:
    from enrollment import services

    committed(cycle)
    past_deadline(cycle)
    return services.freeze_applications(cycle_id=cycle.pk, by=by, today=clock.today())


@pytest.fixture
def applied(alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4):
    """Sofia and Ben both rank Lincoln then Roosevelt (one seat each); Sofia claims a
    sibling at Lincoln."""
    apply(sofia, [lincoln_4, roosevelt_4], alice, claims=[Claim(lincoln_4.school_id, "sibling", "Mateo, grade 2")])
    apply(bobs_student, [lincoln_4, roosevelt_4], bob)
    return lincoln_4.cycle


# --- Who may open what --------------------------------------------------------------


def action_urls(cycle: Cycle, drawing_pk: int = 1) -> list[str]:
    return [
        reverse("staff_enrollment_commit", args=[cycle.pk]),
        reverse("staff_enrollment_freeze", args=[cycle.pk]),
        reverse("staff_enrollment_simulate", args=[drawing_pk]),
        reverse("staff_enrollment_run", args=[drawing_pk]),
        reverse("staff_enrollment_publish", args=[drawing_pk]),
    ]


def test_the_actions_refuse_a_get(diana, cycle):
    client = login(diana)
    for url in [*action_urls(cycle), reverse("staff_enrollment_decide_claim", args=[1])]:
        assert client.get(url).status_code == 405, url


def test_the_desk_is_a_404_for_a_parent(alice_client, cycle):
    for url in [OVERVIEW, CLAIMS, reverse("staff_enrollment_reports")]:
        assert alice_client.get(url).status_code == 404, url
    for url in [*action_urls(cycle), reverse("staff_enrollment_decide_claim", args=[1])]:
        assert alice_client.post(url).status_code == 404, url


def test_the_desk_is_refused_to_a_site_administrator(sam, cycle):
    client = login(sam)
    for url in [OVERVIEW, CLAIMS, reverse("staff_enrollment_reports")]:
        assert client.get(url).status_code == 403, url
    for url in [*action_urls(cycle), reverse("staff_enrollment_decide_claim", args=[1])]:
        assert client.post(url).status_code == 403, url


def test_a_technician_sees_the_desk_but_may_not_draw(tina, diana, applied):
    drawing = frozen(applied, diana)
    client = login(tina)
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    assert drawing.export_sha256 in response.text
    assert "Run the lottery" not in response.text and "Run the trials" not in response.text
    for url in action_urls(applied, drawing.pk):
        assert client.post(url, {"runs": 2, "secret": SECRET, "digits": DIGITS}).status_code == 403, url
    assert not Round.objects.get().has_run
    assert not Simulation.objects.exists()


def test_a_technician_may_verify_a_priority(tina, applied):
    claim = PriorityClaim.objects.get(kind="sibling")
    response = login(tina).post(
        reverse("staff_enrollment_decide_claim", args=[claim.pk]), {f"claim-{claim.pk}-verified": "1"}
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.decided_by) == (PriorityClaim.Status.VERIFIED, tina)


# --- The overview -------------------------------------------------------------------


def test_the_overview_shows_the_dates_the_counts_and_how_to_commit(diana, applied):
    response = login(diana).get(OVERVIEW)
    assert response.status_code == 200
    assert applied.school_year.name in response.text
    assert response.context["applications"] == {"total": 2, "late": 0, "withdrawn": 0}
    assert response.context["by_round"] == [(1, 2)]
    assert response.context["claims_waiting"] == 1
    assert "printf '%s' 'SECRET' | sha256sum" in response.text
    assert "Publish the commitment" in response.text
    assert reverse("enrollment_lottery_record", args=["2027-28"]) in response.text


def test_the_overview_without_a_cycle_says_so(diana):
    response = login(diana).get(OVERVIEW)
    assert response.status_code == 200
    assert "No open-enrollment cycle is set up yet." in response.text


def test_the_director_publishes_the_commitment(diana, cycle):
    commitment = lottery.commitment_of(SECRET)
    response = login(diana).post(
        reverse("staff_enrollment_commit", args=[cycle.pk]), {"commitment": f"  {commitment.upper()} "}
    )
    assert response.status_code == 302 and response.url == f"{OVERVIEW}?cycle={cycle.pk}"
    cycle.refresh_from_db()
    assert cycle.commitment == commitment and cycle.committed_at is not None
    assert messages_of(response) == ["The commitment is published. Keep the secret offline until the drawing."]


def test_a_district_administrator_may_publish_the_commitment(dan, cycle):
    login(dan).post(reverse("staff_enrollment_commit", args=[cycle.pk]), {"commitment": "a" * 64})
    cycle.refresh_from_db()
    assert cycle.commitment == "a" * 64


def test_a_commitment_that_is_not_a_sha256_is_refused_with_the_services_words(diana, cycle):
    response = login(diana).post(reverse("staff_enrollment_commit", args=[cycle.pk]), {"commitment": "my secret"})
    assert messages_of(response) == ["A commitment is a SHA-256: 64 hexadecimal characters."]
    cycle.refresh_from_db()
    assert cycle.commitment == ""


def test_the_director_freezes_after_the_deadline_and_prints_the_hash(diana, applied):
    committed(applied)
    past_deadline(applied)
    client = login(diana)
    response = client.post(reverse("staff_enrollment_freeze", args=[applied.pk]))
    drawing = Round.objects.get()
    assert messages_of(response) == ["2 applications frozen. Print the export's SHA-256 for the board."]
    assert drawing.export_sha256 == lottery.sha256_bytes(drawing.export.encode())
    printable = client.get(reverse("staff_enrollment_freeze_record", args=[drawing.pk]))
    assert printable.status_code == 200
    assert drawing.export_sha256 in printable.text
    assert '<dd class="col-sm-8">2</dd>' in printable.text


def test_freezing_before_the_deadline_is_refused(diana, applied):
    committed(applied)
    response = login(diana).post(reverse("staff_enrollment_freeze", args=[applied.pk]), follow=True)
    assert "they are frozen after the deadline" in response.text
    assert not Round.objects.exists()


def test_trial_runs_are_kept_and_shown(diana, applied):
    drawing = frozen(applied, diana)
    client = login(diana)
    response = client.post(reverse("staff_enrollment_simulate", args=[drawing.pk]), {"runs": 20})
    assert messages_of(response) == ["20 trial runs done."]
    simulation = Simulation.objects.get()
    assert (simulation.round, simulation.runs, simulation.created_by) == (drawing, 20, diana)
    assert simulation.summary["export_sha256"] == drawing.export_sha256
    assert len(simulation.summary["per_run"]) == 20
    page = client.get(OVERVIEW)
    assert "20 trial runs" in page.text
    assert simulation.summary["salt"] in page.text
    assert "LIN-4" in page.text and "ROO-4" in page.text


def test_trial_runs_are_refused_after_the_drawing(diana, applied):
    drawing = drawn(applied, diana)
    response = login(diana).post(reverse("staff_enrollment_simulate", args=[drawing.pk]), {"runs": 5})
    assert messages_of(response) == ["The lottery has run: trial runs are for before the drawing."]
    assert not Simulation.objects.exists()


def test_a_number_of_runs_out_of_range_is_refused(diana, applied):
    drawing = frozen(applied, diana)
    login(diana).post(reverse("staff_enrollment_simulate", args=[drawing.pk]), {"runs": 5000})
    assert not Simulation.objects.exists()


def test_the_director_runs_the_lottery_with_the_digits_as_drawn(diana, applied):
    drawing = frozen(applied, diana)
    response = login(diana).post(
        reverse("staff_enrollment_run", args=[drawing.pk]),
        {"secret": SECRET, "digits": "4 8 15 16 23 42", "observers": "PTA president\nA reporter"},
    )
    drawing.refresh_from_db()
    assert drawing.has_run and drawing.ran_by == diana
    assert drawing.public_digits == DIGITS
    assert drawing.seed == lottery.seed_of(SECRET, DIGITS, drawing.export_sha256)
    assert drawing.observers == "PTA president\nA reporter"
    assert Offer.objects.count() == 2
    assert drawing.result_sha256 in messages_of(response)[0]


def test_a_wrong_secret_is_refused_and_said(diana, applied):
    drawing = frozen(applied, diana)
    response = login(diana).post(
        reverse("staff_enrollment_run", args=[drawing.pk]), {"secret": "guess", "digits": DIGITS}, follow=True
    )
    assert "That secret does not match the published commitment." in response.text
    assert not Round.objects.get().has_run


def test_the_director_publishes_the_results(diana, applied):
    from enrollment import services

    drawing = frozen(applied, diana)
    services.run_lottery(round_id=drawing.pk, secret=SECRET, digits=DIGITS, observers="", by=diana)
    client = login(diana)
    response = client.post(reverse("staff_enrollment_publish", args=[drawing.pk]))
    assert messages_of(response) == ["Results published: 2 families are being told by email."]
    drawing.refresh_from_db()
    assert drawing.published_at is not None
    assert EnrollmentEvent.objects.filter(kind=EnrollmentEvent.Kind.OFFERED).count() == 2
    again = client.post(reverse("staff_enrollment_publish", args=[drawing.pk]), follow=True)
    assert "These results were already published." in again.text


# --- Priority claims ------------------------------------------------------------------


def test_the_queue_lists_claims_waiting_with_their_evidence(tina, applied, school_a):
    response = login(tina).get(CLAIMS)
    assert response.status_code == 200
    assert "Sofia" in response.text and "Mateo, grade 2" in response.text
    assert "Sibling at the school" in response.text and school_a.name in response.text
    assert "Ben" not in response.text


def test_a_residence_claim_shows_the_boundary_lookups_rule(tina, applied, school_b):
    application = applied.applications.get(student__legal_first_name="Ben")
    PriorityClaim.objects.create(
        application=application, school=school_b, kind="resident", evidence="Two attendance areas overlap here."
    )
    response = login(tina).get(CLAIMS)
    assert "Boundary lookup" in response.text
    assert "Two attendance areas overlap here." in response.text


def test_the_queue_filters_by_school_and_kind(tina, applied, school_a, school_b):
    application = applied.applications.get(student__legal_first_name="Ben")
    PriorityClaim.objects.create(application=application, school=school_b, kind="staff_child", evidence="Ms. Brown")
    client = login(tina)
    by_school = client.get(CLAIMS, {"school": school_b.pk})
    assert [r["claim"].kind for r in by_school.context["rows"]] == ["staff_child"]
    by_kind = client.get(CLAIMS, {"kind": "sibling"})
    assert [r["claim"].kind for r in by_kind.context["rows"]] == ["sibling"]
    everything = client.get(CLAIMS)
    assert [r["claim"].kind for r in everything.context["rows"]] == ["sibling", "staff_child"]


def test_a_rejection_needs_a_note(tina, applied):
    claim = PriorityClaim.objects.get(kind="sibling")
    url = reverse("staff_enrollment_decide_claim", args=[claim.pk])
    client = login(tina)
    response = client.post(f"{url}?kind=sibling", {f"claim-{claim.pk}-verified": "0"})
    assert response.url == f"{CLAIMS}?kind=sibling"
    assert messages_of(response) == ["Say why the priority is not verified: the family may ask."]
    assert PriorityClaim.objects.get().status == PriorityClaim.Status.CLAIMED
    client.post(url, {f"claim-{claim.pk}-verified": "0", f"claim-{claim.pk}-note": "No sibling enrolled at Lincoln."})
    claim.refresh_from_db()
    assert (claim.status, claim.note) == (PriorityClaim.Status.REJECTED, "No sibling enrolled at Lincoln.")


def test_a_claim_without_evidence_is_not_verified(tina, alice, sofia, lincoln_4):
    apply(sofia, [lincoln_4], alice, claims=[Claim(lincoln_4.school_id, "sibling", "")])
    claim = PriorityClaim.objects.get()
    response = login(tina).post(
        reverse("staff_enrollment_decide_claim", args=[claim.pk]), {f"claim-{claim.pk}-verified": "1"}
    )
    assert messages_of(response) == ["A priority without evidence cannot be verified."]
    assert PriorityClaim.objects.get().status == PriorityClaim.Status.CLAIMED


def test_claims_cannot_change_once_frozen(tina, diana, applied):
    frozen(applied, diana)
    claim = PriorityClaim.objects.get(kind="sibling")
    response = login(tina).post(
        reverse("staff_enrollment_decide_claim", args=[claim.pk]), {f"claim-{claim.pk}-verified": "1"}
    )
    assert messages_of(response) == ["The applications are frozen for the lottery."]


def test_the_queue_costs_the_same_queries_for_one_claim_or_many(tina, applied, school_b, django_assert_max_num_queries):
    client = login(tina)
    client.get(CLAIMS)  # the session's first request sets its clock
    with django_assert_max_num_queries(9) as one:
        assert len(client.get(CLAIMS).context["rows"]) == 1
    for application in applied.applications.all():
        for kind in ["staff_child", "safety"]:
            PriorityClaim.objects.create(application=application, school=school_b, kind=kind, evidence="x")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get(CLAIMS).context["rows"]) == 5


def test_the_queue_pages_on(tina, applied, school_b, monkeypatch):
    from enrollment import staff_views

    monkeypatch.setattr(staff_views, "CLAIMS_PAGE", 2)
    application = applied.applications.get(student__legal_first_name="Ben")
    PriorityClaim.objects.create(application=application, school=school_b, kind="staff_child", evidence="x")
    PriorityClaim.objects.create(application=application, school=school_b, kind="safety", evidence="y")
    client = login(tina)
    first = client.get(CLAIMS)
    assert [r["claim"].kind for r in first.context["rows"]] == ["sibling", "staff_child"]
    second = client.get(f"{CLAIMS}?{first.context['next']}")
    assert [r["claim"].kind for r in second.context["rows"]] == ["safety"]
    assert second.context["next"] == ""


# --- The public record ------------------------------------------------------------------


def record_url(cycle: Cycle) -> str:
    return reverse("enrollment_lottery_record", args=[cycle.school_year.name])


def test_the_record_is_public_before_the_freeze(cycle):
    committed(cycle)
    response = Client().get(record_url(cycle))
    assert response.status_code == 200
    assert record_url(cycle) == "/enrollment/2027-28/lottery/"
    assert lottery.commitment_of(SECRET) in response.text
    assert "The applications are frozen after the deadline" in response.text


def test_the_record_shows_what_lottery_recomputes(diana, applied):
    drawing = drawn(applied, diana)
    visitor = Client()
    response = visitor.get(record_url(applied))
    assert response.status_code == 200
    export = visitor.get(reverse("enrollment_lottery_export", args=["2027-28", 1]))
    result = visitor.get(reverse("enrollment_lottery_result", args=["2027-28", 1]))
    assert export["Content-Disposition"] == 'attachment; filename="open-enrollment-2027-28-round-1-export.jsonl"'
    export_sha256 = lottery.sha256_bytes(export.content)
    seed = lottery.seed_of(SECRET, DIGITS, export_sha256)
    derived = lottery.derive(export.content, seed)
    assert derived.result_lines == result.content
    for value in [
        lottery.commitment_of(SECRET),
        export_sha256,
        SECRET,
        DIGITS,
        seed,
        derived.result_sha256,
        lottery.code_version(),
        "PTA president",
    ]:
        assert value in response.text, value
    assert drawing.ran_by.get_full_name() in response.text
    assert f"printf &#x27;%s&#x27; {SECRET}{DIGITS}{export_sha256} | sha256sum" in response.text
    assert "manage.py verify_lottery open-enrollment-2027-28-round-1-export.jsonl" in response.text
    # Pseudonymous: no name in the export.
    assert b"Sofia" not in export.content and b"Garcia" not in export.content


def test_the_result_is_not_there_before_the_run(diana, applied):
    frozen(applied, diana)
    visitor = Client()
    assert visitor.get(reverse("enrollment_lottery_export", args=["2027-28", 1])).status_code == 200
    assert visitor.get(reverse("enrollment_lottery_result", args=["2027-28", 1])).status_code == 404
    assert SECRET not in visitor.get(record_url(applied)).text


def test_an_unknown_year_has_no_record(district):
    assert Client().get("/enrollment/2031-32/lottery/").status_code == 404


# Every staff route of open enrollment with an id (tests/permits/test_views.py holds every
# id route to a table); each is refused to a parent (404) and to a site administrator (403).
STAFF_ENROLLMENT_OBJECT_OF = {
    "staff_enrollment_commit": "cycle",
    "staff_enrollment_freeze": "cycle",
    "staff_enrollment_freeze_record": "round",
    "staff_enrollment_simulate": "round",
    "staff_enrollment_run": "round",
    "staff_enrollment_publish": "round",
    "staff_enrollment_decide_claim": "claim",
}
