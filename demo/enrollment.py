"""Open enrollment for the demo: next year's cycle, open today, with programs at every
school's entry grades (and a dual-immersion strand), tours and an information session,
the district's published commitment, and two applications made through the services."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from applicants.models import Grade, Student
from enrollment import lottery, services
from enrollment.models import Cycle, InfoSession, Program
from permits import clock

# Demo only: a real district keeps its secret offline until the public drawing and
# publishes nothing but its SHA-256 (enrollment.lottery).
DEMO_SECRET = "valle-verde-demo-secret"

FAQ_EN = (
    "Who may apply? Every family living in the district, for a student entering the grades offered.\n"
    "How are places given? Where a school has more applicants than seats, by a public lottery: priorities "
    "first (residents of the attendance area, continuing students, siblings, children of staff), then the "
    "lottery number. Grades, test scores and sports never count.\n"
    "Can I change my choices? Yes, until the application deadline."
)

FAQ_ES = (
    "¿Quién puede presentar una solicitud? Toda familia que vive en el distrito, para un estudiante que "
    "entra en los grados ofrecidos.\n"
    "¿Cómo se asignan los lugares? Cuando una escuela tiene más solicitantes que lugares, por un sorteo "
    "público: primero las prioridades (residentes del área de asistencia, estudiantes que continúan, "
    "hermanos, hijos del personal), luego el número del sorteo. Las calificaciones, los exámenes y los "
    "deportes nunca cuentan.\n"
    "¿Puedo cambiar mis opciones? Sí, hasta la fecha límite de solicitudes."
)


def seed_enrollment(*, school_year, schools: dict, families: list) -> Cycle:
    today = clock.today()
    cycle = Cycle.objects.create(
        school_year=school_year,
        applications_open_on=today - timedelta(days=14),
        applications_close_on=today + timedelta(days=21),
        lottery_on=today + timedelta(days=28),
        offer_deadline=today + timedelta(days=42),
        max_choices=3,
        intro_en="Choose up to three schools for next year. Tours run through the application window.",
        intro_es="Elija hasta tres escuelas para el próximo año. Hay visitas durante el período de solicitudes.",
        faq_en=FAQ_EN,
        faq_es=FAQ_ES,
    )
    entry_grades = {"LIN": Grade.K, "ROO": Grade.K, "JEF": Grade.G6, "PVH": Grade.G9}
    programs = {}
    for code, grade in entry_grades.items():
        label = {Grade.K: "K", Grade.G6: "6", Grade.G9: "9"}[grade]
        programs[code] = Program.objects.create(
            cycle=cycle, school=schools[code], grade=grade, seats=24, code=f"{code}-{label}"
        )
    programs["ROO-DI"] = Program.objects.create(
        cycle=cycle,
        school=schools["ROO"],
        grade=Grade.K,
        strand_en="Dual immersion (Spanish)",
        strand_es="Inmersión dual (español)",
        seats=12,
        code="ROO-K-DI",
    )
    for days, kind, school, place in [
        (5, InfoSession.Kind.INFO, None, "District office, board room"),
        (7, InfoSession.Kind.TOUR, schools["ROO"], "Roosevelt Elementary, front office"),
        (9, InfoSession.Kind.TOUR, schools["LIN"], "Lincoln Elementary, library"),
    ]:
        InfoSession.objects.create(
            cycle=cycle,
            kind=kind,
            school=school,
            starts_at=timezone.make_aware(datetime.combine(today + timedelta(days=days), time(17, 30))),
            place=place,
            capacity=25,
        )
    services.publish_commitment(cycle_id=cycle.pk, commitment=lottery.commitment_of(DEMO_SECRET), today=today)
    # Two kindergarteners applying; the second ranks the dual-immersion strand first.
    for family, first, strand_first in zip(families, ("Noah", "Camila"), (False, True), strict=True):
        child = Student.objects.create(
            family=family,
            legal_first_name=first,
            legal_last_name=family.guardians.first().last_name,
            grade=Grade.K,
            date_of_birth=today.replace(year=today.year - 5, month=3, day=1),
        )
        ranked = [programs["ROO-DI"], programs["LIN"]] if strand_first else [programs["LIN"], programs["ROO"]]
        services.submit_application(
            cycle=cycle, student=child, programs=ranked, by=family.guardians.first(), today=today
        )
    return cycle
