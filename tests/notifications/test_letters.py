import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from notifications import letters
from notifications.events import handle_event
from notifications.models import LetterParagraph
from notifications.pdf import LocalOnlyFetcher, html_to_pdf
from outbox import delivery
from outbox.models import OutboxEmail
from permits import services
from permits.models import District, Document, Letter, SeatAllocation
from reviews import services as desk
from reviews.batches import build_batch
from reviews.models import LetterBatch

from ..conftest import login


def pdf_text(data: bytes) -> str:
    """The text of every page on one line, with words hyphenated at a line end rejoined."""
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)


@pytest.fixture
def approvable(submitted_in, school_b, school_year):
    SeatAllocation.objects.create(school=school_b, school_year=school_year, grade=4, capacity=5)
    Document.objects.filter(permit=submitted_in).update(review=Document.Review.VERIFIED)
    return submitted_in


def issued(permit, kind) -> Letter:
    """The letter as the worker leaves it once the permit's events are handled."""
    for event_id in permit.events.filter(notified_at__isnull=True).values_list("pk", flat=True):
        handle_event(event_id)
    return Letter.objects.get(permit=permit, kind=kind)


def stored_bytes(letter: Letter) -> bytes:
    with letter.pdf.open("rb") as f:
        return f.read()


def harfbuzz_subsetting_available() -> bool:
    """WeasyPrint subsets embedded fonts with HarfBuzz when libharfbuzz-subset (4.1+)
    is installed, and falls back to fontTools otherwise."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def test_an_approval_issues_an_acceptance_with_the_decision_and_a_verification_code(approvable, tina):
    services.approve_permit(permit_id=approvable.pk, by=tina)
    letter = issued(approvable, "acceptance")
    text = pdf_text(stored_bytes(letter))
    assert "Sofia Garcia" in text
    assert "accepts the student on an inter-district permit" in text
    assert "Roosevelt Elementary" in text and "Grade 4" in text and "2027-28" in text
    assert letter.verification_code and letter.verification_code in text
    assert "Valle Verde Unified School District" in text and "1200 Valle Verde Blvd" in text


def test_a_denial_letter_states_reasons_and_the_county_appeal_deadline(submitted_in, diana):
    services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], note="Grade 4 is full.", final=True)
    letter = issued(submitted_in, "denial")
    text = pdf_text(stored_bytes(letter))
    # Both steps: the district's appeal by its deadline, then the county within 30 days
    # of the final denial, which is the internal deadline when no appeal is filed.
    internal = letter.letter_date + timedelta(days=District.current().internal_appeal_days)
    county = internal + timedelta(days=30)
    assert "No space at the school and grade requested" in text and "Grade 4 is full." in text
    assert f"(internal appeal) until {internal:%B} {internal.day}, {internal.year}" in text
    assert f"becomes final on {internal:%B} {internal.day}, {internal.year}" in text
    assert f"county board until {county:%B} {county.day}, {county.year}" in text
    assert "Sierra Azul County Office of Education" in text


def test_a_spanish_speaking_family_gets_the_letter_in_spanish(submitted_in, diana, alice):
    alice.family.preferred_language = "es"
    alice.family.save()
    services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], final=True)
    letter = issued(submitted_in, "denial")
    text = pdf_text(stored_bytes(letter))
    assert letter.language == "es"
    assert "junta de educación del condado" in text.lower()
    assert "Sofia Garcia" in text
    months = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ]
    deadline = letter.letter_date + timedelta(days=District.current().internal_appeal_days + 30)
    assert f"{deadline.day} de {months[deadline.month - 1]} de {deadline.year}" in text


def test_the_pdf_is_tagged_with_title_and_language(approvable, tina):
    services.approve_permit(permit_id=approvable.pk, by=tina)
    reader = PdfReader(io.BytesIO(stored_bytes(issued(approvable, "acceptance"))))
    assert approvable.reference in reader.metadata.title
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert "/StructTreeRoot" in reader.trailer["/Root"]


def test_fonts_are_embedded_as_harfbuzz_subsets(approvable, tina):
    assert harfbuzz_subsetting_available()
    services.approve_permit(permit_id=approvable.pk, by=tina)
    reader = PdfReader(io.BytesIO(stored_bytes(issued(approvable, "acceptance"))))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(font.get_object()["/BaseFont"])
    assert fonts and all(re.match(r"/[A-Z]{6}\+", str(name)) for name in fonts), fonts


def test_a_letter_never_loads_anything_from_the_network():
    html = '<html lang="en"><head><title>t</title></head><body><img src="http://198.51.100.1/x.png">x</body></html>'
    with pytest.raises(FatalURLFetchingError):
        html_to_pdf(html)
    with pytest.raises(ValueError):
        LocalOnlyFetcher().fetch("file:///etc/passwd")


def test_district_text_is_escaped_not_html(approvable, tina):
    LetterParagraph.objects.create(kind="acceptance", text_en="<b>Welcome</b> & <script>x</script>")
    services.approve_permit(permit_id=approvable.pk, by=tina)
    letter = issued(approvable, "acceptance")
    assert "&lt;b&gt;Welcome&lt;/b&gt; &amp; &lt;script&gt;" in letter.html
    assert "<b>Welcome</b> & <script>x</script>" in pdf_text(stored_bytes(letter))


def test_an_issued_letter_is_never_regenerated_differently(approvable, tina, alice_client):
    services.approve_permit(permit_id=approvable.pk, by=tina)
    letter = issued(approvable, "acceptance")
    first = alice_client.get(reverse("family_letter", args=[letter.pk]))
    LetterParagraph.objects.create(kind="acceptance", text_en="A paragraph added later.")
    letters.render_letter(letter.pk)  # a second render request changes nothing
    second = alice_client.get(reverse("family_letter", args=[letter.pk]))
    body = b"".join(first.streaming_content)
    assert body == b"".join(second.streaming_content)
    import hashlib

    assert hashlib.sha256(body).hexdigest() == letter.sha256
    assert "A paragraph added later." not in pdf_text(body)
    assert first["Content-Disposition"].startswith("attachment;")


def test_the_decision_email_carries_the_letter_rendered_before_it(approvable, tina, settings):
    services.approve_permit(permit_id=approvable.pk, by=tina)
    assert not OutboxEmail.objects.exists()  # nothing is rendered inside the decision
    letter = issued(approvable, "acceptance")
    email = OutboxEmail.objects.get(template="permit_approved")
    # The letter was rendered and stored before its email was queued: delivery (the
    # mail worker) only reads the stored bytes, it never runs WeasyPrint.
    assert letter.rendered_at <= email.queued_at and email.attachment.name == letter.pdf.name
    delivery.deliver(email.pk)
    [message] = mail.outbox
    [(name, content, mime)] = message.attachments
    assert mime == "application/pdf" and name.startswith(approvable.reference)
    assert "Sofia Garcia" in pdf_text(content)


def test_an_information_request_and_an_abandonment_issue_letters(submitted_in, tina):
    from reviews.deadlines import run_daily_checks

    services.request_information(permit_id=submitted_in.pk, by=tina, message="Send the report card.", document_types=[])
    info = issued(submitted_in, "information_request")
    assert "Send the report card." in pdf_text(stored_bytes(info))
    run_daily_checks(today=timezone.localdate() + timedelta(days=11))
    abandonment = issued(submitted_in, "abandonment")
    assert "cannot be appealed" in pdf_text(stored_bytes(abandonment))


def test_verification_says_valid_then_revoked_and_nothing_more(approvable, tina, diana):
    services.approve_permit(permit_id=approvable.pk, by=tina)
    letter = issued(approvable, "acceptance")
    client = Client()
    page = client.get(reverse("verify_letter", args=[letter.verification_code]))
    assert page.status_code == 200 and "Valid" in page.text
    assert "S. G." in page.text and "Sofia" not in page.text and "Garcia" not in page.text
    services.revoke_permit(permit_id=approvable.pk, by=diana, reason="Attendance", effective_on=timezone.localdate())
    assert "Revoked" in client.get(reverse("verify_letter", args=[letter.verification_code])).text
    unknown = client.get(reverse("verify_letter", args=["NOPE234567"]))
    assert unknown.status_code == 404 and "Unknown" in unknown.text


def test_verification_is_rate_limited(district):
    from django.core.cache import cache

    cache.delete("verify-rate:10.9.8.7")
    client = Client(REMOTE_ADDR="10.9.8.7")
    statuses = [client.get(reverse("verify_letter", args=["ABCDEFGHJK"])).status_code for _ in range(22)]
    assert statuses[:20] == [404] * 20 and statuses[20:] == [429, 429]
    cache.delete("verify-rate:10.9.8.7")


def test_a_batch_print_is_one_pdf_of_the_chosen_letters(approvable, tina, diana, school_year, school_b):
    from ..reviews.test_views import make_packets

    services.approve_permit(permit_id=approvable.pk, by=tina)
    others = make_packets(3, school_year, school_b)
    for permit in others:
        services.deny_permit(permit_id=permit.pk, by=diana, reasons=["grades"], final=True)
    for permit in others:
        issued(permit, "denial")
    client = login(diana)
    response = client.post(reverse("letter_batch_create"), {"day": timezone.localdate().isoformat(), "kind": "denial"})
    batch = LetterBatch.objects.get()
    assert response["Location"] == reverse("letter_batch", args=[batch.pk])
    assert batch.total == 3
    build_batch(batch.pk)  # what the worker runs
    status = client.get(reverse("letter_batch_status", args=[batch.pk])).json()
    assert status == {"status": "done", "done": 3, "total": 3, "percent": 100}
    pdf = b"".join(client.get(reverse("letter_batch_download", args=[batch.pk])).streaming_content)
    text = pdf_text(pdf)
    assert all(p.student.full_name in text for p in others)
    assert "Sofia Garcia" not in text
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 3


def test_letters_are_out_of_reach_of_other_families_and_roles(approvable, tina, diana, sam, bob_client):
    services.approve_permit(permit_id=approvable.pk, by=tina)
    letter = issued(approvable, "acceptance")
    assert bob_client.get(reverse("family_letter", args=[letter.pk])).status_code == 404
    assert login(sam).get(reverse("staff_letter", args=[letter.pk])).status_code == 404
    assert login(tina).get(reverse("staff_letter", args=[letter.pk])).status_code == 200
    assert login(tina).get(reverse("letter_list")).status_code == 403
    assert login(diana).get(reverse("letter_list")).status_code == 200


LETTER_OBJECT_OF = {
    "family_letter": "letter",
    "staff_letter": "letter",
    "letter_batch": "batch",
    "letter_batch_status": "batch",
    "letter_batch_download": "batch",
}


@pytest.fixture
def letter_objects(approvable, tina, diana):
    services.approve_permit(permit_id=approvable.pk, by=tina)
    letter = issued(approvable, "acceptance")
    batch = desk.start_batch(letters=[letter], by=diana, description="one")
    build_batch(batch.pk)
    return {"letter": letter.pk, "batch": batch.pk}


@pytest.mark.parametrize("name", sorted(LETTER_OBJECT_OF))
def test_every_letter_url_is_a_404_for_other_families_roles_and_directors(
    name, letter_objects, bob_client, sam, district
):
    from ..conftest import staff

    url = reverse(name, args=[letter_objects[LETTER_OBJECT_OF[name]]])
    other_director = staff("dora@district.example", "director")
    assert bob_client.get(url).status_code == 404
    # A site administrator of another school: the letter is out of scope (404); batch
    # printing is not their role at all (403).
    assert login(sam).get(url).status_code == (403 if name.startswith("letter_batch") else 404)
    if name.startswith("letter_batch"):
        # Another director's batch: it exists, but is not theirs.
        assert login(other_director).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


def test_a_batch_larger_than_a_chunk_keeps_every_page_in_order(approvable, tina, tmp_path):
    from reviews import batches

    services.approve_permit(permit_id=approvable.pk, by=tina)
    letter = issued(approvable, "acceptance")
    seen = []
    # 5 letters in chunks of 2, 2 and 1, then the chunks joined.
    batches.write_batch([letter] * 5, tmp_path / "out.pdf", on_progress=seen.append, chunk=2)
    joined = PdfReader(tmp_path / "out.pdf")
    single = PdfReader(io.BytesIO(stored_bytes(letter)))
    assert len(joined.pages) == 5 * len(single.pages)
    # Page for page the letter as stored: its content streams are copied, not laid out again.
    assert joined.pages[-1].get_contents().get_data() == single.pages[-1].get_contents().get_data()
    assert seen == [5]
