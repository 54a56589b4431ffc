"""How a long letter is laid out on paper: the closing and the signature stay on one
page, every page after the first carries the district's name and the reference at its
top, and every page says which of how many it is, in the letter's language.

Each letter is made as long as a district could make it (every denial reason, long
appeal steps and county contact, the district's own paragraph at length, long names),
through the same services and worker as a real one, and rendered once."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from notifications.models import LetterParagraph
from permits import services
from permits.models import Document, DocumentType, Letter, Permit, PermitKind, SeatAllocation

from ..conftest import required_types
from ..factories import pdf_upload
from .test_letters import issued, stored_bytes

# What a letter says in each language, as the family reads it.
CLOSING = {"en": "Sincerely,", "es": "Atentamente,"}
PAGE_OF = {"en": "Page {page} of {pages}", "es": "Página {page} de {pages}"}
REFERENCE = {"en": "Reference", "es": "Referencia"}

DIRECTOR = "Dolores Esperanza Villaseñor Montgomery"

APPEAL_STEPS_EN = (
    "To appeal, write to the Director of Student Services at the address above. Say why the decision "
    "should change and include any document that supports your request, such as a letter from an "
    "employer, a child care provider or a doctor. You may also use the appeal button on your request's "
    "page in the portal, or bring your appeal to the district office, where staff will help you fill it "
    "in. The district's appeal panel, three administrators who took no part in the first decision, reviews "
    "the request, the documents and your statement. You may ask to meet the panel in person or by "
    "telephone, with an interpreter at no cost to you. The panel decides within 10 days of receiving your "
    "appeal and tells you its decision in writing."
)
APPEAL_STEPS_ES = (
    "Para apelar, escriba al Director de Servicios Estudiantiles a la dirección indicada arriba. Explique "
    "por qué debería cambiar la decisión e incluya cualquier documento que respalde su solicitud, como una "
    "carta de un empleador, de un proveedor de cuidado infantil o de un médico. También puede usar el botón "
    "de apelación en la página de su solicitud en el portal, o entregar su apelación en la oficina del "
    "distrito, donde el personal le ayudará a llenarla. El panel de apelaciones del distrito, formado por "
    "tres administradores que no participaron en la primera decisión, revisa la solicitud, los documentos y "
    "su declaración. Usted puede pedir reunirse con el panel en persona o por teléfono, con un intérprete "
    "sin costo para usted. El panel decide en un plazo de 10 días a partir de la recepción de su apelación "
    "y le comunica su decisión por escrito."
)
COUNTY_OFFICE = (
    "Sierra Azul County Office of Education, Interdistrict Attendance Appeals\n"
    "Attention: Coordinator of Student Services and Interdistrict Attendance Appeals\n"
    "400 County Center Drive, Building C, Second Floor, Sierra Azul, CA 90998\n"
    "(555) 010-3000 · appeals@sierraazul-coe.example"
)
POLICY_EN = (
    "Board Policy and Administrative Regulation 5117 (Interdistrict Attendance) and 5116.1 (Intradistrict "
    "Open Enrollment) govern every permit. A permit may be granted when space is available at the school "
    "and grade requested, and priority is given to a student who is the victim of an act of bullying, to a "
    "child of an active-duty military parent and to a student whose parent is employed within the district. "
    "A student on a permit is expected to attend regularly, to make satisfactory progress and to follow the "
    "rules of the school; the district publishes the conditions on which a permit may be revoked, and a "
    "permit is never revoked for a student entering grade 11 or 12. Transportation to and from the school is "
    "the family's responsibility unless an individualized education program provides otherwise."
)
POLICY_ES = (
    "La Política de la Junta y el Reglamento Administrativo 5117 (Asistencia Interdistrital) y 5116.1 "
    "(Inscripción Abierta Intradistrital) rigen cada permiso. Se puede otorgar un permiso cuando hay cupo "
    "en la escuela y el grado solicitados, y se da prioridad al estudiante que es víctima de un acto de "
    "acoso escolar, al hijo de un padre o madre militar en servicio activo y al estudiante cuyo padre o "
    "madre trabaja dentro del distrito. Se espera que el estudiante con permiso asista con regularidad, "
    "tenga un progreso satisfactorio y cumpla las normas de la escuela; el distrito publica las condiciones "
    "en las que se puede revocar un permiso, y nunca se revoca el permiso de un estudiante que entra al "
    "grado 11 o 12. El transporte de ida y vuelta a la escuela es responsabilidad de la familia, salvo que "
    "un programa de educación individualizado disponga otra cosa."
)
NOTE = (
    "Grade 4 at Roosevelt Elementary is full for the year: every permit seat was taken by earlier requests "
    "with priority. The report cards and the attendance record in the packet show repeated absences and "
    "grades below the standard the policy asks for, and the documents given for the reason of the request "
    "do not show employment within the district."
)


@pytest.fixture
def district_at_length(district):
    """The district's text as long as a district writes it, and a paragraph of its own
    (the board policy, three times over) on every kind of letter."""
    district.director_name = DIRECTOR
    district.director_title_en = "Assistant Superintendent of Educational Services and Director of Student Services"
    district.director_title_es = (
        "Superintendente Auxiliar de Servicios Educativos y Directora de Servicios Estudiantiles"
    )
    district.office_name = "Office of Student Services and Interdistrict Attendance"
    district.appeal_steps_en, district.appeal_steps_es = APPEAL_STEPS_EN, APPEAL_STEPS_ES
    district.county_office = COUNTY_OFFICE
    district.save()
    for kind in Letter.Kind.values:
        LetterParagraph.objects.create(
            kind=kind, text_en="\n\n".join([POLICY_EN] * 3), text_es="\n\n".join([POLICY_ES] * 3)
        )
    return district


@pytest.fixture
def family(alice, sofia, district_at_length):
    family = alice.family
    family.street, family.unit = "12345 Avenida de los Árboles Frutales del Valle", "Apartment 1204-B"
    family.save()
    alice.first_name, alice.last_name = "María Guadalupe", "Hernández Villanueva de la Cruz"
    alice.save()
    sofia.legal_first_name, sofia.legal_middle_name = "Sofía Alejandra", "Esperanza"
    sofia.legal_last_name = "Garcia Hernández Villanueva"
    sofia.save()
    return family


def packet(kind, *, alice, sofia, school_year, school_b, **fields) -> Permit:
    """Alice's submitted packet of a kind, every document verified and, where it takes
    one, a seat free at school B."""
    permit = services.start_permit(family=alice.family, student=sofia, school_year=school_year, kind=kind, by=alice)
    for name, value in {"requested_school": school_b, **fields}.items():
        setattr(permit, name, value)
    permit.save()
    for document_type in required_types(kind):
        services.add_document(
            permit_id=permit.pk, document_type=document_type, upload=pdf_upload(f"{document_type.code}.pdf"), by=alice
        )
    services.submit_permit(permit_id=permit.pk, by=alice)
    Document.objects.filter(permit=permit).update(review=Document.Review.VERIFIED)
    SeatAllocation.objects.get_or_create(school=school_b, school_year=school_year, grade=sofia.grade, capacity=5)
    return permit


def handled(permit: Permit) -> None:
    """Marks the permit's events so far as handled by the worker, so that only the
    last step's letter is rendered."""
    permit.events.update(notified_at=timezone.now())


DENIAL_REASONS = ["no_space", "grades", "attendance", "behavior", "reason_not_supported", "other"]


def deny(permit, people):
    services.deny_permit(permit_id=permit.pk, by=people["diana"], reasons=DENIAL_REASONS, note=NOTE, final=True)


def uphold_on_appeal(permit, people):
    deny(permit, people)
    handled(permit)
    appeal = services.file_internal_appeal(permit_id=permit.pk, by=people["alice"], statement="Please reconsider.")
    services.decide_internal_appeal(appeal_id=appeal.pk, by=people["diana"], overturned=False)


def approve(permit, people):
    services.approve_permit(permit_id=permit.pk, by=people["tina"])


def revoke(permit, people):
    approve(permit, people)
    handled(permit)
    services.revoke_permit(permit_id=permit.pk, by=people["diana"], reason=NOTE, effective_on=timezone.localdate())


def request_information(permit, people):
    services.request_information(
        permit_id=permit.pk, by=people["tina"], message=NOTE, document_types=list(DocumentType.objects.all()[:8])
    )


def abandon(permit, people):
    request_information(permit, people)
    handled(permit)
    permit.refresh_from_db()
    services.abandon_permit(permit_id=permit.pk, today=permit.info_due_date + timedelta(days=1))


# Each kind of letter: the kind of permit, and the steps that issue the letter.
STEPS = {
    "denial": (PermitKind.INTER_IN, deny),
    "final_denial": (PermitKind.INTER_IN, uphold_on_appeal),
    "revocation": (PermitKind.INTER_IN, revoke),
    "abandonment": (PermitKind.INTER_IN, abandon),
    "acceptance": (PermitKind.INTER_IN, approve),
    "placement": (PermitKind.INTRA, approve),
    "release": (PermitKind.INTER_OUT, approve),
    "information_request": (PermitKind.INTER_IN, request_information),
}


def pages_of(pdf: bytes) -> list[list[str]]:
    """Each page's lines of text, top to bottom (fragments on one baseline joined)."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fragments = []

        def visit(text, cm, tm, _font, _size, fragments=fragments):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                fragments.append((y, x, text))

        page.extract_text(visitor_text=visit)
        lines: list[tuple[float, list[tuple[float, str]]]] = []
        for y, x, text in sorted(fragments, key=lambda f: -f[0]):
            if lines and abs(lines[-1][0] - y) < 2:
                lines[-1][1].append((x, text))
            else:
                lines.append((y, [(x, text)]))
        pages.append([" ".join(" ".join(t for _x, t in sorted(parts)).split()) for _y, parts in lines])
    return pages


def page_with(pages: list[list[str]], text: str) -> int:
    [index] = [i for i, lines in enumerate(pages) if any(text in line for line in lines)]
    return index


@pytest.fixture
def long_letter(request, family, alice, sofia, school_year, school_a, school_b, tina, diana):
    """(letter, its pages) for the parametrized kind and language."""
    kind, language = request.param
    family.preferred_language = language
    family.save()
    permit_kind, steps = STEPS[kind]
    fields = {
        PermitKind.INTRA: {"school_of_residence": school_a},
        PermitKind.INTER_OUT: {
            "destination_district": "Costa Clara Joint Unified School District",
            "requested_school": None,
        },
        PermitKind.INTER_IN: {"home_district": "Mesa Grande Unified School District"},
    }[permit_kind]
    permit = packet(permit_kind, alice=alice, sofia=sofia, school_year=school_year, school_b=school_b, **fields)
    handled(permit)
    steps(permit, {"alice": alice, "tina": tina, "diana": diana})
    letter = issued(permit, kind)
    assert letter.language == language
    return letter, pages_of(stored_bytes(letter))


LETTERS = [(kind, language) for kind in STEPS for language in ("en", "es")]


def test_every_kind_of_letter_is_laid_out_at_length_here():
    assert set(STEPS) == set(Letter.Kind.values)


@pytest.mark.parametrize("long_letter", LETTERS, ids=[f"{k}-{lang}" for k, lang in LETTERS], indirect=True)
def test_a_long_letter_keeps_its_signature_whole_and_heads_and_numbers_every_page(long_letter):
    letter, pages = long_letter
    language, reference = letter.language, letter.permit.reference
    assert len(pages) >= 2, "the letter is not long enough to test its pages"
    # The closing and the signatory on one page: never "Sincerely," alone at a page's foot.
    assert page_with(pages, CLOSING[language]) == page_with(pages, DIRECTOR)
    for number, lines in enumerate(pages, start=1):
        if number > 1:
            header = lines[0]
            assert "Valle Verde Unified School District" in header, (number, header)
            assert f"{REFERENCE[language]}: {reference}" in header, (number, header)
        footer = lines[-1]
        assert footer == PAGE_OF[language].format(page=number, pages=len(pages)), (number, footer)


def test_a_one_page_letter_says_it_is_page_1_of_1_under_its_letterhead(verified_in, tina):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    [page] = pages_of(stored_bytes(issued(verified_in, "acceptance")))
    # Page 1 opens with the letterhead, not the running header of later pages.
    assert page[0] == "Valle Verde Unified School District"
    assert page[-1] == "Page 1 of 1"
