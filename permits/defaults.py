"""The starting configuration of a new district: the document types, outgoing reasons
and checklists that California districts commonly use (DOMAIN.md §2). Every row can be
changed in the admin afterwards; installing twice changes nothing."""

from django.db import transaction

from .models import District, DocumentRule, DocumentType, PermitKind, Reason

DOCUMENT_TYPES = {
    # code: (English, Spanish, help English, help Spanish)
    "release": (
        "Approved release from the home district",
        "Permiso de salida aprobado por el distrito de residencia",
        "The inter-district permit your home district approved.",
        "El permiso interdistrital que aprobó su distrito de residencia.",
    ),
    "report_card": (
        "Latest report card or transcript",
        "Boleta de calificaciones o expediente académico más reciente",
        "",
        "",
    ),
    "behavior_report": (
        "Behavior and discipline report",
        "Informe de conducta y disciplina",
        "",
        "",
    ),
    "attendance_record": ("Attendance record", "Registro de asistencia", "", ""),
    "iep": (
        "Most recent IEP",
        "Programa de Educación Individualizado (IEP) más reciente",
        "Only for students who receive special education services.",
        "Solo para estudiantes que reciben servicios de educación especial.",
    ),
    "employer_letter": (
        "Employer letter with the physical work address",
        "Carta del empleador con la dirección física del trabajo",
        "On company letterhead, signed, with the parent's work schedule (EC 48204(b)).",
        "En papel membretado de la empresa, firmada, con el horario de trabajo del padre o madre (EC 48204(b)).",
    ),
    "childcare_letter": (
        "Letter from the child care provider",
        "Carta del proveedor de cuidado infantil",
        "With the provider's address and license number.",
        "Con la dirección y el número de licencia del proveedor.",
    ),
    "sibling_enrollment": (
        "Proof of a sibling's enrollment",
        "Comprobante de inscripción de un hermano o hermana",
        "",
        "",
    ),
    "enrollment_proof": (
        "Proof of current enrollment",
        "Comprobante de inscripción actual",
        "",
        "",
    ),
    "program_description": (
        "Description of the special program",
        "Descripción del programa especial",
        "",
        "",
    ),
    "incident_report": (
        "Report of the bullying incidents",
        "Informe de los incidentes de acoso escolar",
        "A school or police report, or a written statement with dates.",
        "Un informe de la escuela o de la policía, o una declaración escrita con fechas.",
    ),
    "military_orders": (
        "Military orders or a letter from the commanding officer",
        "Órdenes militares o carta del oficial al mando",
        "",
        "",
    ),
    "health_statement": (
        "Statement from a doctor or counselor",
        "Declaración de un médico o consejero",
        "",
        "",
    ),
    "supporting_letter": ("Supporting letter", "Carta de apoyo", "", ""),
    "appeal_evidence": (
        "Document supporting an appeal",
        "Documento de apoyo de la apelación",
        "",
        "",
    ),
}

# code: (English, Spanish, priority group, documents)
OUTGOING_REASONS = {
    "employment": ("Parent employment", "Empleo del padre o madre", "", ["employer_letter"]),
    "child_care": ("Child care", "Cuidado infantil", "", ["childcare_letter"]),
    "sibling": ("Sibling attending the school", "Hermano o hermana en la escuela", "", ["sibling_enrollment"]),
    "continuing": (
        "Continuing enrollment or final year",
        "Continuación de inscripción o último año",
        "",
        ["enrollment_proof"],
    ),
    "special_program": ("Special program", "Programa especial", "", ["program_description"]),
    "bullying": ("Victim of bullying", "Víctima de acoso escolar", "bullying", ["incident_report"]),
    "military": (
        "Parent on active military duty",
        "Padre o madre en servicio militar activo",
        "military",
        ["military_orders"],
    ),
    "health_safety": ("Health and safety", "Salud y seguridad", "", ["health_statement"]),
    "other": ("Other", "Otro", "", ["supporting_letter"]),
}

RECORDS = ["report_card", "behavior_report", "attendance_record"]
CHECKLISTS = {
    PermitKind.INTER_IN: ["release", *RECORDS],
    PermitKind.INTRA: RECORDS,
}


@transaction.atomic
def install_defaults(**district_fields) -> District:
    """Create the district row (with the given fields) and the default checklists."""
    district, _ = District.objects.get_or_create(pk=1, defaults=district_fields)
    types = {}
    for code, (en, es, help_en, help_es) in DOCUMENT_TYPES.items():
        types[code], _ = DocumentType.objects.get_or_create(
            code=code, defaults={"name_en": en, "name_es": es, "help_en": help_en, "help_es": help_es}
        )
    for kind, codes in CHECKLISTS.items():
        for position, code in enumerate(codes):
            DocumentRule.objects.get_or_create(
                kind=kind,
                document_type=types[code],
                reason=None,
                defaults={"position": position, "is_release": code == "release"},
            )
        DocumentRule.objects.get_or_create(
            kind=kind,
            document_type=types["iep"],
            reason=None,
            defaults={"position": 50, "special_education_only": True},
        )
    for position, (code, (en, es, group, documents)) in enumerate(OUTGOING_REASONS.items()):
        reason, _ = Reason.objects.get_or_create(
            code=code,
            defaults={
                "name_en": en,
                "name_es": es,
                "priority_group": group,
                "position": position,
                "kind": PermitKind.INTER_OUT,
            },
        )
        for document_code in documents:
            DocumentRule.objects.get_or_create(
                kind=PermitKind.INTER_OUT, document_type=types[document_code], reason=reason
            )
    return district
