"""Test data builders. Packets are moved between statuses by the real services."""

import functools
import io
from datetime import date, timedelta

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from applicants.models import Family, Grade, Student, User
from boundaries.models import School
from demo.samples import sample_pdf
from permits.models import SchoolYear

PASSWORD = "correct-horse-battery-staple"


@functools.cache
def password_hash() -> str:
    """PASSWORD hashed once with the portal's own hasher (Argon2): every test user shares
    the hash, and sign-in still checks it for real. Hashing it per user cost about
    0.13 s each, several times per test."""
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


def png_bytes(size=(4, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG")
    return out.getvalue()


PNG_1PX = png_bytes((1, 1))


def pdf_upload(name: str = "report.pdf", text: str = "Report card") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, sample_pdf(text), content_type="application/pdf")


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Family

    street = factory.Sequence(lambda n: f"{100 + n} Elm Street")
    city = "Valle Verde"
    postal_code = "90999"
    preferred_language = "en"


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"guardian{n}@example.com")
    first_name = "Alice"
    last_name = factory.Sequence(lambda n: f"Parent{n}")
    family = factory.SubFactory(FamilyFactory)
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.LazyFunction(lambda: password_hash())


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    family = factory.SubFactory(FamilyFactory)
    legal_first_name = factory.Sequence(lambda n: f"Student{n}")
    legal_last_name = "Rivera"
    date_of_birth = date(2016, 4, 1)
    grade = Grade.G4
    current_school = "Mesa Elementary"
    current_district = "Mesa Grande Unified"


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    name = factory.Sequence(lambda n: f"School {n}")
    code = factory.Sequence(lambda n: f"S{n}")
    lowest_grade = Grade.TK
    highest_grade = Grade.G12


class SchoolYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolYear

    name = factory.Sequence(lambda n: f"{2030 + n}-{31 + n}")
    first_day_of_instruction = factory.LazyFunction(lambda: date(timezone.localdate().year + 1, 8, 12))
    last_day_of_instruction = factory.LazyAttribute(lambda o: date(o.first_day_of_instruction.year + 1, 6, 3))
    applications_open_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    applications_close_on = factory.LazyAttribute(lambda o: o.last_day_of_instruction)
