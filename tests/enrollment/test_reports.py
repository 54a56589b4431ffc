"""Open-enrollment reports: per program, placement shares, answers, the plan's
baselines and the integration band, on a small drawn cycle."""

import csv
import io

import pytest
from django.urls import reverse

from enrollment import reports
from enrollment.models import Application, Offer, Placement
from permits import clock

from ..conftest import login
from .test_services import apply, drawn

REPORTS = reverse("staff_enrollment_reports")


@pytest.fixture
def drawing(alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana):
    """Sofia and Ben both rank Lincoln then Roosevelt, one seat each: one gets Lincoln,
    the other Roosevelt and Lincoln's waitlist."""
    apply(sofia, [lincoln_4, roosevelt_4], alice)
    apply(bobs_student, [lincoln_4, roosevelt_4], bob)
    return drawn(lincoln_4.cycle, diana)


def first_at_lincoln(lincoln_4) -> Application:
    return Offer.objects.get(program=lincoln_4).application


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_per_program_demand_offers_waitlist_and_cutoff(drawing, lincoln_4, roosevelt_4):
    report = reports.build(lincoln_4.cycle)
    lincoln, roosevelt = report.programs
    assert (lincoln.program, roosevelt.program) == (lincoln_4, roosevelt_4)
    assert (lincoln.by_rank, lincoln.applicants, lincoln.offers, lincoln.waiting) == ([2, 0, 0], 2, 1, 1)
    assert (roosevelt.by_rank, roosevelt.applicants, roosevelt.offers, roosevelt.waiting) == ([0, 2, 0], 2, 1, 0)
    # The cutoff: the one admitted at Lincoln, with no priority, and that student's number.
    admitted = Placement.objects.get(application=first_at_lincoln(lincoln_4))
    assert lincoln.oversubscribed is True
    assert (lincoln.cutoff_class, lincoln.cutoff_number) == ("No priority", admitted.number)
    # Roosevelt took everyone who asked (nobody waits for it).
    assert roosevelt.oversubscribed is False


def test_placement_shares_and_answers(drawing, lincoln_4, diana):
    from enrollment import services

    report = reports.build(lincoln_4.cycle)
    assert report.shares.rows() == [
        ("1st choice", 1, 0.5),
        ("2nd choice", 1, 0.5),
        ("3rd choice", 0, 0.0),
        ("Any choice", 2, 1.0),
        ("No offer", 0, 0.0),
    ]
    holder = Offer.objects.get(program=lincoln_4)
    services.decline_offer(offer_id=holder.pk, by=diana, today=clock.today())
    answers = reports.build(lincoln_4.cycle).answers
    assert (answers.offers, answers.declined, answers.pending, answers.accept_rate, answers.decline_rate) == (
        2,
        1,
        1,
        0.0,
        1.0,
    )


def test_this_years_applicants_beside_the_plans_baseline(drawing, lincoln_4):
    figures = [(r.number, r.applicants, r.frozen, r.baseline) for r in reports.build(lincoln_4.cycle).rounds]
    assert figures == [(1, 2, True, 1750), (2, 0, False, 494)]


def test_the_integration_band_counts_the_schools_that_meet_it(
    alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana
):
    cycle = lincoln_4.cycle
    cycle.reserve_tiers, cycle.integration_band_low, cycle.integration_band_high = [1], 0, 50
    cycle.save()
    apply(sofia, [lincoln_4, roosevelt_4], alice)
    apply(bobs_student, [lincoln_4, roosevelt_4], bob)
    Application.objects.filter(student=sofia).update(tier=1)
    drawn(cycle, diana)
    report = reports.build(cycle)
    sofias_school = Offer.objects.get(application__student=sofia).program.school.name
    band = {s.school: (s.offers, s.reserved_tier, s.meets) for s in report.band}
    assert band[sofias_school] == (1, 1, False)  # 100% from the reserved tier: above 50%
    assert sorted(band.values()) == [(1, 0, True), (1, 1, False)]
    assert (report.schools_in_band, report.schools_outside_band) == (1, 1)
    assert (report.baseline_in_band, report.baseline_outside_band) == (14, 14)


def test_no_band_without_reserved_tiers(drawing, lincoln_4):
    report = reports.build(lincoln_4.cycle)
    assert report.has_band is False and report.band == []


def test_before_the_drawing_there_is_no_cutoff(alice, sofia, lincoln_4):
    apply(sofia, [lincoln_4], alice)
    report = reports.build(lincoln_4.cycle)
    assert report.drawing is None and report.shares is None
    assert report.programs[0].oversubscribed is None and report.programs[0].by_rank == [1, 0, 0]


# --- The page and its CSV ----------------------------------------------------------------


def test_the_csv_has_a_table_per_figure(diana, drawing, lincoln_4):
    response = login(diana).get(REPORTS, {"format": "csv", "cycle": lincoln_4.cycle_id})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="open-enrollment-2027-28.csv"'
    table = rows(response)
    assert table[0] == [
        "school",
        "grade",
        "strand",
        "program",
        "seats",
        "reserved_seats",
        "ranked_1",
        "ranked_2",
        "ranked_3",
        "applicants",
        "offers",
        "accepted",
        "declined_or_expired",
        "released",
        "answer_pending",
        "waiting",
        "oversubscribed",
        "cutoff_priority",
        "cutoff_lottery_number",
    ]
    number = Placement.objects.get(application=first_at_lincoln(lincoln_4)).number
    assert table[1] == [
        "Lincoln Elementary", "Grade 4", "", "LIN-4", "1", "0", "2", "0", "0", "2", "1", "0", "0", "0", "1", "1",
        "yes", "No priority", number,
    ]  # fmt: skip
    assert table[2][:4] == ["Roosevelt Elementary", "Grade 4", "", "ROO-4"]
    assert table[2][16:] == ["no", "No priority", table[2][18]]
    assert table[3] == []
    assert table[4:10] == [
        ["placed_at", "students", "percent"],
        ["choice_1", "1", "50.0"],
        ["choice_2", "1", "50.0"],
        ["choice_3", "0", "0.0"],
        ["any", "2", "100.0"],
        ["none", "0", "0.0"],
    ]
    assert table[11:13] == [
        ["offers", "accepted", "declined", "expired", "released", "answer_pending", "accept_rate", "decline_rate"],
        ["2", "0", "0", "0", "0", "2", "", ""],
    ]
    assert table[14:] == [
        ["round", "applicants", "frozen", "baseline_applicants"],
        ["1", "2", "yes", "1750"],
        ["2", "0", "no", "494"],
    ]


def test_the_report_page_shows_the_figures(tina, drawing, lincoln_4):
    response = login(tina).get(REPORTS)
    assert response.status_code == 200
    assert "Lincoln Elementary" in response.text and "1st choice" in response.text
    assert "1750" in response.text and "494" in response.text
    assert "Integration band" not in response.text


@pytest.mark.parametrize("who, status", [("alice", 404), ("sam", 403), ("dan", 200), ("diana", 200)])
def test_who_may_open_the_reports(who, status, request, drawing):
    response = login(request.getfixturevalue(who)).get(REPORTS, {"format": "csv"})
    assert response.status_code == status


def test_the_report_costs_the_same_queries_however_many_programs(
    diana, drawing, lincoln_4, school_a, django_assert_max_num_queries
):
    from enrollment.models import Program

    client = login(diana)
    client.get(REPORTS)  # the session's first request sets its clock
    with django_assert_max_num_queries(15) as few:
        client.get(REPORTS)
    for n in range(8):
        Program.objects.create(
            cycle=lincoln_4.cycle, school=school_a, grade=4, strand_en=f"S{n}", seats=3, code=f"LIN-S{n}"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(REPORTS)
    assert len(response.context["data"].programs) == 10
