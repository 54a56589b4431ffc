import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from permits import services as permit_services
from permits.defaults import install_defaults
from permits.models import Document, DocumentRule, DocumentType, Permit, PermitKind, Reason, SeatAllocation

from .factories import (
    PASSWORD,
    GuardianFactory,
    SchoolFactory,
    SchoolYearFactory,
    StudentFactory,
    password_hash,
    pdf_upload,
)


@pytest.fixture
def district(db):
    return install_defaults(
        name="Valle Verde Unified School District",
        county="Sierra Azul",
        street="1200 Valle Verde Blvd",
        city="Valle Verde",
        postal_code="90999",
        phone="(555) 010-2000",
        email="permits@district.example",
        county_office="Sierra Azul County Office of Education",
        service_level_days=None,
    )


@pytest.fixture
def school_year(district):
    return SchoolYearFactory(name="2027-28")


@pytest.fixture
def school_a(district):
    return SchoolFactory(name="Lincoln Elementary", code="LIN")


@pytest.fixture
def school_b(district):
    return SchoolFactory(name="Roosevelt Elementary", code="ROO")


@pytest.fixture
def alice(district):
    """A parent whose family has one student, Sofia."""
    return GuardianFactory(email="alice@example.com", first_name="Alice")


@pytest.fixture
def bob(district):
    """A parent of another family."""
    return GuardianFactory(email="bob@example.com", first_name="Bob")


@pytest.fixture
def sofia(alice):
    return StudentFactory(family=alice.family, legal_first_name="Sofia", legal_last_name="Garcia")


@pytest.fixture
def bobs_student(bob):
    return StudentFactory(family=bob.family, legal_first_name="Ben", legal_last_name="Brown")


def staff(email: str, role: str, schools=()):
    from applicants.models import User
    from reviews.models import StaffRole

    user = User.objects.create(
        email=email, password=password_hash(), first_name=email.split("@")[0].title(), is_staff=True
    )
    StaffRole.objects.create(user=user, role=role).schools.set(schools)
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


def recovery_code(user) -> str:
    """A fresh one-time recovery code for a staff member (the second factor)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="recovery")
    return device.token_set.create(token=StaticToken.random_token()).token


@pytest.fixture
def tina(district):
    """A CWA technician."""
    return staff("tina@district.example", "technician")


@pytest.fixture
def terry(district):
    """Another CWA technician."""
    return staff("terry@district.example", "technician")


@pytest.fixture
def diana(district):
    """The director of student services."""
    return staff("diana@district.example", "director")


@pytest.fixture
def sam(district, school_a):
    """The site administrator of school A (Lincoln) only."""
    return staff("sam@district.example", "site_admin", schools=[school_a])


@pytest.fixture
def dan(district):
    """A district administrator (configuration and reports)."""
    return staff("dan@district.example", "district_admin")


def login(user) -> Client:
    client = Client()
    client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session, "login failed"
    if user.is_staff and user.family_id is None:
        client.post("/accounts/2fa/verify/", {"code": recovery_code(user)})
        assert "otp_device_id" in client.session, "second factor failed"
    return client


@pytest.fixture
def alice_client(alice):
    return login(alice)


@pytest.fixture
def bob_client(bob):
    return login(bob)


def doc_type(code: str) -> DocumentType:
    return DocumentType.objects.get(code=code)


def required_types(kind: str, reason: Reason | None = None) -> list[DocumentType]:
    rules = DocumentRule.objects.filter(kind=kind, special_education_only=False)
    rules = (
        rules.filter(reason__isnull=True) | rules.filter(reason=reason) if reason else rules.filter(reason__isnull=True)
    )
    return [rule.document_type for rule in rules]


@pytest.fixture
def draft_in(alice, sofia, school_year, school_b):
    """Alice's complete, unsubmitted inter_in packet for Sofia."""
    from permits import services

    permit = services.start_permit(
        family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTER_IN, by=alice
    )
    permit.requested_school = school_b
    permit.home_district = "Mesa Grande Unified"
    permit.save()
    for document_type in required_types(PermitKind.INTER_IN):
        services.add_document(
            permit_id=permit.pk,
            document_type=document_type,
            upload=pdf_upload(f"{document_type.code}.pdf"),
            by=alice,
        )
    permit.refresh_from_db()
    return permit


@pytest.fixture
def seats_b(school_b, school_year):
    """Five permit seats in grade 4 at school B for the year."""
    return SeatAllocation.objects.create(school=school_b, school_year=school_year, grade=4, capacity=5)


@pytest.fixture
def submitted_in(draft_in, alice):
    return permit_services.submit_permit(permit_id=draft_in.pk, by=alice)


@pytest.fixture
def verified_in(submitted_in, seats_b):
    """A submitted inter_in packet with every document verified and a seat free."""
    Document.objects.filter(permit=submitted_in).update(review=Document.Review.VERIFIED)
    submitted_in.refresh_from_db()
    return submitted_in


@pytest.fixture
def release_pending_in(draft_in, alice, tina, seats_b):
    """Alice's inter_in packet submitted without the release (marked pending), claimed
    by Tina, every other document verified and a seat free."""
    draft_in.documents.filter(document_type__code="release").delete()
    Permit.objects.filter(pk=draft_in.pk).update(release_pending=True)
    permit_services.submit_permit(permit_id=draft_in.pk, by=alice)
    permit_services.claim_permit(permit_id=draft_in.pk, by=tina)
    Document.objects.filter(permit=draft_in).update(review=Document.Review.VERIFIED)
    draft_in.refresh_from_db()
    return draft_in


@pytest.fixture(autouse=True)
def _storages(settings, tmp_path):
    """Uploaded files of a test go to its own folder; static files are served from
    the source folders rather than a collected manifest."""
    settings.STORAGES = {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def smtp_sink():
    from .live import SmtpSink

    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def celery_worker_process(transactional_db, smtp_sink):
    """A real Celery worker on the test database, delivering to the SMTP sink."""
    from .live import Worker

    worker = Worker(email_url=smtp_sink.url).start()
    yield worker
    worker.stop()


@pytest.fixture
def handle_events():
    """What a worker does after each commit (notifications.events): returns a function
    that handles every pending permit event (letters rendered, emails queued) and
    returns how many emails it queued."""
    from notifications.events import handle_event
    from permits.models import PermitEvent

    def run() -> int:
        pending = PermitEvent.objects.filter(notified_at__isnull=True).order_by("pk").values_list("pk", flat=True)
        return sum(handle_event(pk) for pk in list(pending))

    return run


@pytest.fixture
def year_in_session(school_year):
    """The school year moved to instruction from Wednesday, August 12, 2026 to June 3,
    2027, so that a provisional attendance can start on a past school day."""
    from datetime import date

    school_year.first_day_of_instruction = date(2026, 8, 12)
    school_year.last_day_of_instruction = date(2027, 6, 3)
    school_year.save(update_fields=["first_day_of_instruction", "last_day_of_instruction"])
    return school_year


@pytest.fixture(autouse=True)
def _fresh_boundaries_in_force():
    """A test starts as a request or task does: the boundary imports in force are read
    again (a rolled-back transaction deletes imports without telling anyone)."""
    from boundaries.lookup import forget_imports_in_force

    forget_imports_in_force()
    yield
    forget_imports_in_force()
