"""The staff review page and the queue say what happened and nothing more: the page
fetches no document until a person opens one (each fetch is in the record of
disclosures), and a technician's denial reads as the recommendation it is."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from permits import services as permit_services
from permits.models import DenialReason, Permit
from reviews.models import RecordAccess

from ..conftest import login
from .test_views import make_packets

RECOMMENDED = "Denial recommended — awaiting the director"


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes and the text directly after it."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str], list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}, []))

    def handle_data(self, data):
        if self.tags:
            self.tags[-1][2].append(data)

    def find(self, tag: str, **attrs) -> list[dict[str, str]]:
        return [a for t, a, _ in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def texts(self, tag: str, class_contains: str) -> list[str]:
        return ["".join(text).strip() for t, a, text in self.tags if t == tag and class_contains in a.get("class", "")]


def review_page(user, permit: Permit) -> Elements:
    response = login(user).get(reverse("staff_permit", args=[permit.pk]))
    assert response.status_code == 200
    return Elements(response.text)


def recommend_denial(permit: Permit, by) -> None:
    permit_services.deny_permit(
        permit_id=permit.pk, by=by, reasons=[DenialReason.NO_SPACE], note="Grade 4 is full.", final=False
    )


def status_badges(page: Elements) -> list[str]:
    return page.texts("span", "status-")


# --- Documents: loaded only when opened ----------------------------------------------


def test_the_review_page_fetches_no_document_before_one_is_opened(tina, submitted_in):
    page = review_page(tina, submitted_in)
    documents = list(submitted_in.documents.all())
    assert len(documents) >= 3
    urls = {reverse("staff_document", args=[d.pk]) for d in documents}
    # Anything that a browser loads by itself (a frame, an image, an object) has no
    # document address; the viewers carry it in data-src until they are opened.
    for tag in ("iframe", "img", "embed", "object", "video", "source", "link"):
        for attrs in page.find(tag):
            assert attrs.get("src", "") not in urls and attrs.get("data", "") not in urls, (tag, attrs)
            assert attrs.get("href", "") not in urls, (tag, attrs)
    assert not [a for a in page.find("iframe") if "src" in a]
    viewers = {a["data-src"] for t in ("iframe", "img") for a in page.find(t) if "data-src" in a}
    assert viewers == urls
    assert not RecordAccess.objects.exists()


def test_each_document_opens_in_a_new_tab_without_javascript(tina, submitted_in):
    page = review_page(tina, submitted_in)
    for document in submitted_in.documents.all():
        links = page.find("a", href=reverse("staff_document", args=[document.pk]), target="_blank")
        assert len(links) == 2  # the file name and "Open in a new tab" in the viewer's section
    assert page.find("script", src="/static/js/review.js")
    assert not [a for t, a, text in page.tags if t == "script" and "".join(text).strip()]  # CSP: no inline script


# --- A technician's denial is a recommendation ---------------------------------------


def deny_controls(page: Elements) -> tuple[list[str], list[str]]:
    """The texts of the <summary> and <button> elements of the deny form's section."""
    summaries = ["".join(text).strip() for t, _, text in page.tags if t == "summary"]
    buttons = ["".join(text).strip() for t, _, text in page.tags if t == "button"]
    return summaries, buttons


def test_a_technician_is_offered_to_recommend_a_denial_not_to_deny(tina, submitted_in):
    summaries, buttons = deny_controls(review_page(tina, submitted_in))
    assert "Recommend denial" in summaries and "Recommend denial" in buttons
    assert "Deny" not in summaries and "Deny" not in buttons


def test_the_director_is_offered_to_deny(diana, submitted_in):
    summaries, buttons = deny_controls(review_page(diana, submitted_in))
    assert "Deny" in summaries and "Deny" in buttons
    assert "Recommend denial" not in summaries + buttons


def test_a_technician_denies_where_the_district_lets_technicians_deny(district, tina, submitted_in):
    district.technicians_can_deny = True
    district.save()
    summaries, buttons = deny_controls(review_page(tina, submitted_in))
    assert "Deny" in summaries and "Deny" in buttons
    assert "Recommend denial" not in summaries + buttons


def test_recommending_a_denial_says_it_is_a_recommendation(tina, submitted_in):
    response = login(tina).post(
        reverse("staff_deny", args=[submitted_in.pk]),
        {"deny-reasons": [DenialReason.NO_SPACE], "deny-note": "Grade 4 is full."},
        follow=True,
    )
    text = response.content.decode()
    assert (
        f"Your recommendation to deny {submitted_in.reference} is recorded. It is not a denial yet: the packet "
        "stays open until the director confirms it, and the family is not told until then."
    ) in text
    assert f"{submitted_in.reference} denied." not in text
    submitted_in.refresh_from_db()
    assert submitted_in.is_open and submitted_in.denial_recommended_by == tina
    assert status_badges(Elements(text)) == [RECOMMENDED]


def test_the_directors_denial_says_it_is_final(diana, submitted_in):
    response = login(diana).post(
        reverse("staff_deny", args=[submitted_in.pk]),
        {"deny-reasons": [DenialReason.NO_SPACE], "deny-note": "Grade 4 is full."},
        follow=True,
    )
    assert f"{submitted_in.reference} denied. The family is told of the right to appeal." in response.content.decode()
    assert status_badges(Elements(response.content.decode())) == ["Denied"]


@pytest.mark.parametrize("who", ["tina", "diana"])
def test_a_recommended_denial_reads_as_awaiting_the_director_on_the_review_page(who, request, tina, submitted_in):
    recommend_denial(submitted_in, tina)
    page = review_page(request.getfixturevalue(who), submitted_in)
    assert status_badges(page) == [RECOMMENDED]
    headings = ["".join(text).strip() for t, _, text in page.tags if t == "h2"]
    assert "Denial recommended" in headings
    _, buttons = deny_controls(page)
    assert ("Confirm the denial" in buttons) == (who == "diana")


@pytest.mark.parametrize("who", ["tina", "diana"])
def test_a_recommended_denial_reads_as_awaiting_the_director_in_the_queue(
    who, request, tina, submitted_in, school_year, school_b
):
    other = make_packets(1, school_year, school_b, verified=False)[0]
    recommend_denial(submitted_in, tina)
    text = login(request.getfixturevalue(who)).get(reverse("staff_queue")).content.decode()
    assert sorted(status_badges(Elements(text))) == sorted([RECOMMENDED, "Submitted"])
    assert submitted_in.reference in text and other.reference in text


def test_the_director_filters_the_queue_to_recommended_denials(diana, tina, submitted_in, school_year, school_b):
    other = make_packets(1, school_year, school_b, verified=False)[0]
    recommend_denial(submitted_in, tina)
    client = login(diana)
    text = client.get(reverse("staff_queue"), {"denial_recommended": "on"}).content.decode()
    assert submitted_in.reference in text and other.reference not in text
    assert Elements(text).find("input", name="denial_recommended", checked="")
    assert other.reference in client.get(reverse("staff_queue")).content.decode()


def test_the_family_never_sees_a_recommended_denial(tina, submitted_in, alice_client):
    recommend_denial(submitted_in, tina)
    for name in ("permit_detail", "family_dashboard"):
        args = [submitted_in.pk] if name == "permit_detail" else []
        text = alice_client.get(reverse(name, args=args)).content.decode()
        assert "recommended" not in text.lower() and "awaiting the director" not in text


def test_a_confirmed_denial_reads_as_denied(tina, diana, submitted_in):
    recommend_denial(submitted_in, tina)
    permit_services.confirm_denial(permit_id=submitted_in.pk, by=diana)
    assert status_badges(review_page(tina, submitted_in)) == ["Denied"]
