"""Demo data for `make run`: a district, schools, seats, boundary data, staff and a few
families with their addresses and packets in several states. Packets go through the same
services a parent uses, boundary files through the same importer as the district's."""

from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice

from applicants.addresses import standardize
from applicants.models import Family, Grade, Student, User
from applicants.services import record_residence
from permits import clock, services
from permits.defaults import install_defaults
from permits.models import (
    District,
    DocumentRule,
    DocumentType,
    NonInstructionalDay,
    Permit,
    PermitKind,
    Reason,
    School,
    SchoolYear,
    SeatAllocation,
)
from reviews import services as reviews
from reviews.models import Role, StaffRole

from ...boundaries import import_demo_boundaries
from ...enrollment import seed_enrollment
from ...samples import sample_pdf

PASSWORD = "demo-portal-2026"

SCHOOLS = [
    ("Lincoln Elementary", "LIN", Grade.TK, Grade.G5),
    ("Roosevelt Elementary", "ROO", Grade.TK, Grade.G5),
    ("Jefferson Middle School", "JEF", Grade.G6, Grade.G8),
    ("Valle Verde High School", "PVH", Grade.G9, Grade.G12),
]


class Command(BaseCommand):
    help = "Load demo data (district, schools, staff, families with packets) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if a district exists.")

    def handle(self, *args, if_empty=False, **options):
        if if_empty and District.objects.exists():
            self.stdout.write("Demo data already loaded.")
            self.print_logins()
            return
        with transaction.atomic():
            self.seed()
        self.print_logins()

    def seed(self):
        install_defaults(
            name="Valle Verde Unified School District",
            county="Sierra Azul",
            street="1200 Valle Verde Blvd",
            city="Valle Verde",
            postal_code="90999",
            phone="(555) 010-2000",
            email="permits@valleverde.example",
            county_office=(
                "Sierra Azul County Office of Education, Interdistrict Attendance Appeals\n"
                "400 County Center Drive, Sierra Azul, CA 90998\n(555) 010-3000"
            ),
            service_level_days=30,
            director_name="Diana Directora",
            policy_intro_en=(
                "Valle Verde USD accepts inter-district and intra-district permit requests through "
                "this portal. Requests for next school year are accepted from November 1."
            ),
            policy_intro_es=(
                "Valle Verde USD recibe las solicitudes de permisos interdistritales e intradistritales "
                "a través de este portal. Las solicitudes para el próximo año escolar se reciben a "
                "partir del 1 de noviembre."
            ),
            appeal_steps_en=(
                "Write to the Director of Student Services, saying why the decision should change, or "
                "use the appeal button on your request's page. The district's appeal panel decides "
                "within 10 days and tells you in writing."
            ),
            appeal_steps_es=(
                "Escriba al Director de Servicios Estudiantiles explicando por qué debería cambiar la "
                "decisión, o use el botón de apelación en la página de su solicitud. El panel de "
                "apelaciones del distrito decide en un plazo de 10 días y le comunica su decisión por escrito."
            ),
            board_policy="BP/AR 5117 (Interdistrict Attendance), BP/AR 5116.1 (Intradistrict Open Enrollment)",
            county_class=3,
        )
        today = clock.today()
        start = today.year if today.month >= 7 else today.year - 1
        current = SchoolYear.objects.create(
            name=f"{start}-{str(start + 1)[2:]}",
            first_day_of_instruction=date(start, 8, 13),
            last_day_of_instruction=date(start + 1, 6, 4),
            applications_open_on=date(start, 1, 15),
            applications_close_on=date(start + 1, 5, 28),
        )
        upcoming = SchoolYear.objects.create(
            name=f"{start + 1}-{str(start + 2)[2:]}",
            first_day_of_instruction=date(start + 1, 8, 12),
            last_day_of_instruction=date(start + 2, 6, 3),
            applications_open_on=date(start, 11, 1),
            applications_close_on=date(start + 2, 5, 27),
            continuation_confirm_by=date(start + 1, 4, 15),
        )
        # Thanksgiving and the day after: school days (and so school months) skip them.
        thanksgiving = date(start, 11, 1) + timedelta(days=(3 - date(start, 11, 1).weekday()) % 7 + 21)
        for day in (thanksgiving, thanksgiving + timedelta(days=1)):
            NonInstructionalDay.objects.create(school_year=current, day=day, name="Thanksgiving")
        schools = {}
        for name, code, low, high in SCHOOLS:
            school = School.objects.create(name=name, code=code, lowest_grade=low, highest_grade=high)
            schools[code] = school
            for year in (current, upcoming):
                SeatAllocation.objects.bulk_create(
                    SeatAllocation(school=school, school_year=year, grade=grade, capacity=6)
                    for grade in range(low, high + 1)
                )
        # Street ranges, attendance areas and address points (demo/boundaries/), in force
        # from this school year: the families' addresses below find their schools in them.
        import_demo_boundaries(effective_year=current.name)

        admin = User.objects.create_superuser(
            email="admin@valleverde.example", password=PASSWORD, first_name="Ada", last_name="Admin"
        )
        StaffRole.objects.create(user=admin, role=Role.DISTRICT_ADMIN)
        staff = {}
        for email, first, last, role in [
            ("technician@valleverde.example", "Teresa", "Tecnica", Role.TECHNICIAN),
            ("principal@valleverde.example", "Pablo", "Principal", Role.SITE_ADMIN),
            ("director@valleverde.example", "Diana", "Directora", Role.DIRECTOR),
        ]:
            staff[role] = User.objects.create_user(
                email=email,
                password=PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=True,
                email_verified_at=timezone.now(),
            )
            StaffRole.objects.create(user=staff[role], role=role)
        StaffRole.objects.get(role=Role.SITE_ADMIN).schools.set([schools["ROO"]])
        # Staff sign in with a second factor; the demo gives each a few recovery codes
        # (printed below) so that nobody needs an authenticator app to try the portal.
        for person in [admin, *staff.values()]:
            device = StaticDevice.objects.create(user=person, name="recovery")
            for n in range(1, 6):
                device.token_set.create(token=f"demo{n:04d}")

        # The Garcías live outside the district (incoming requests): letters go to that
        # address, and no Valle Verde school is theirs. The Lees live in Lincoln's area.
        garcia = self.family(
            "maria.garcia@example.com", "María", "García", "es", address=("7421 Orchard Lane", "Mesa Grande", "90997")
        )
        lee = self.family(
            "sam.lee@example.com", "Sam", "Lee", "en", address=("318 Sycamore Street", "Valle Verde", "90999")
        )
        sofia = Student.objects.create(
            family=garcia,
            legal_first_name="Sofía",
            legal_last_name="García",
            grade=Grade.G3,
            date_of_birth=date(start - 8, 3, 14),
            current_school="Mesa Elementary",
            current_district="Mesa Grande Unified",
        )
        mateo = Student.objects.create(
            family=garcia,
            legal_first_name="Mateo",
            legal_last_name="García",
            grade=Grade.G7,
            date_of_birth=date(start - 12, 9, 2),
            current_school="Mesa Intermediate",
            current_district="Mesa Grande Unified",
            special_education=True,
        )
        jordan = Student.objects.create(
            family=lee,
            legal_first_name="Jordan",
            legal_last_name="Lee",
            grade=Grade.G10,
            date_of_birth=date(start - 15, 1, 20),
            current_school="Valle Verde High School",
            current_district="Valle Verde Unified",
        )
        avery = Student.objects.create(
            family=lee,
            legal_first_name="Avery",
            legal_last_name="Lee",
            grade=Grade.G1,
            date_of_birth=date(start - 6, 5, 5),
            current_school="Lincoln Elementary",
            current_district="Valle Verde Unified",
        )
        technician, director = staff[Role.TECHNICIAN], staff[Role.DIRECTOR]
        # Incoming packet, complete, verified and approved at Roosevelt.
        approved = self.packet(
            sofia,
            upcoming,
            PermitKind.INTER_IN,
            submit=True,
            requested_school=schools["ROO"],
            home_district="Mesa Grande Unified",
        )
        services.claim_permit(permit_id=approved.pk, by=technician)
        for document in approved.documents.all():
            reviews.review_document(document_id=document.pk, by=technician, verified=True)
        services.approve_permit(permit_id=approved.pk, by=technician)
        # Incoming packet submitted with the release pending.
        self.packet(
            mateo,
            current,
            PermitKind.INTER_IN,
            submit=True,
            skip={"release"},
            requested_school=schools["JEF"],
            home_district="Mesa Grande Unified",
            release_pending=True,
        )
        # Outgoing packet, under review with a request for information.
        outgoing = self.packet(
            jordan,
            upcoming,
            PermitKind.INTER_OUT,
            submit=True,
            reason=Reason.objects.get(code="employment"),
            destination_district="Costa Clara Unified",
            destination_school="Poly High",
        )
        services.claim_permit(permit_id=outgoing.pk, by=technician)
        services.request_information(
            permit_id=outgoing.pk,
            by=technician,
            message="The employer letter must show the physical work address.",
            document_types=list(DocumentType.objects.filter(code="employer_letter")),
        )
        # Outgoing packet for the current year, denied by the director.
        denied = self.packet(
            jordan,
            current,
            PermitKind.INTER_OUT,
            submit=True,
            reason=Reason.objects.get(code="other"),
            destination_district="Costa Clara Unified",
        )
        services.deny_permit(
            permit_id=denied.pk,
            by=director,
            reasons=["reason_not_supported"],
            note="The letter does not explain why the transfer is needed.",
            final=True,
        )
        # Intra-district draft, half done.
        self.packet(
            avery,
            upcoming,
            PermitKind.INTRA,
            submit=False,
            skip={"attendance_record"},
            school_of_residence=schools["LIN"],
            requested_school=schools["ROO"],
        )
        # A withdrawn request keeps its history.
        withdrawn = self.packet(
            avery,
            current,
            PermitKind.INTRA,
            submit=True,
            school_of_residence=schools["LIN"],
            requested_school=schools["ROO"],
        )
        services.withdraw_permit(permit_id=withdrawn.pk, by=withdrawn.created_by, note="We moved closer to Lincoln.")
        # The Ortiz family's lot lies exactly on the line between Lincoln's and Roosevelt's
        # K-5 areas: the lookup never guesses, so their submitted packet opens a review on
        # the staff desk's Addresses page, where staff name the school and say why.
        ortiz = self.family(
            "elena.ortiz@example.com", "Elena", "Ortiz", "es", address=("20 Arroyo Court", "Valle Verde", "90999")
        )
        lucia = Student.objects.create(
            family=ortiz,
            legal_first_name="Lucía",
            legal_last_name="Ortiz",
            grade=Grade.G2,
            date_of_birth=date(start - 7, 11, 30),
            current_school="Lincoln Elementary",
            current_district="Valle Verde Unified",
        )
        self.packet(
            lucia,
            upcoming,
            PermitKind.INTRA,
            submit=True,
            school_of_residence=schools["LIN"],
            requested_school=schools["ROO"],
        )
        # Next year's open enrollment, open today: a Lee and an Ortiz kindergartener apply
        # (the Lees live in Lincoln's area; the Ortiz lot waits for staff to place it).
        seed_enrollment(school_year=upcoming, schools=schools, families=[lee, ortiz])

    def family(self, email, first, last, language, *, address) -> Family:
        street, city, postal_code = address
        family = Family.objects.create(preferred_language=language)
        # The address as the family typed it, lived at for years (before every demo
        # packet); the family's street fields become its USPS form.
        record_residence(
            family=family,
            address=standardize(street, "", city, "CA", postal_code),
            entered=f"{street}, {city}, CA {postal_code}",
            since=date(clock.today().year - 6, 7, 1),
            by=None,
        )
        family.refresh_from_db()
        User.objects.create_user(
            email=email,
            password=PASSWORD,
            first_name=first,
            last_name=last,
            family=family,
            email_verified_at=timezone.now(),
        )
        return family

    def packet(self, student, year, kind, *, submit, skip=(), **details) -> Permit:
        guardian = student.family.guardians.first()
        permit = services.start_permit(family=student.family, student=student, school_year=year, kind=kind, by=guardian)
        Permit.objects.filter(pk=permit.pk).update(**details)
        permit.refresh_from_db()
        rules = DocumentRule.objects.filter(kind=kind).select_related("document_type")
        for rule in rules:
            if rule.reason_id not in (None, permit.reason_id) or rule.document_type.code in skip:
                continue
            if rule.special_education_only and not student.special_education:
                continue
            upload = SimpleUploadedFile(
                f"{rule.document_type.code}.pdf",
                sample_pdf(rule.document_type.name_en),
                content_type="application/pdf",
            )
            services.add_document(permit_id=permit.pk, document_type=rule.document_type, upload=upload, by=guardian)
        if submit:
            services.submit_permit(permit_id=permit.pk, by=guardian)
        return permit

    def print_logins(self):
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {PASSWORD})"))
        self.stdout.write("  Staff accounts then ask for a code: use demo0001 ... demo0005 (each once).")
        for email, role in [
            ("maria.garcia@example.com", "parent (Spanish)"),
            ("sam.lee@example.com", "parent (English)"),
            ("elena.ortiz@example.com", "parent (Spanish; address on a boundary line)"),
            ("technician@valleverde.example", "CWA technician"),
            ("principal@valleverde.example", "site administrator"),
            ("director@valleverde.example", "director"),
            ("admin@valleverde.example", "district administrator (/admin/)"),
        ]:
            self.stdout.write(f"  {email:32} {role}")
