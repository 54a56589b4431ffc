"""Reads about permits that are more than a one-line query."""

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q

from applicants.models import Family, Student

from .models import Document, DocumentRule, DocumentType, InformationRequest, Letter, Permit, PermitEvent, Reason

# The statuses a decision letter speaks for: the family's copy is linked on its dashboard.
DECIDED_STATUSES = (
    Permit.Status.APPROVED,
    Permit.Status.DENIED,
    Permit.Status.REVOKED,
    Permit.Status.ABANDONED,
)


@dataclass
class ChecklistItem:
    document_type: DocumentType
    is_release: bool
    documents: list[Document] = field(default_factory=list)

    @property
    def is_present(self) -> bool:
        return any(d.review != Document.Review.REJECTED for d in self.documents)


def rules_for(*, kind: str, reason: Reason | None, special_education: bool) -> list[DocumentRule]:
    """The checklist a packet of this kind (and reason) needs, from configuration."""
    rules = DocumentRule.objects.filter(kind=kind).select_related("document_type")
    rules = rules.filter(Q(reason__isnull=True) | Q(reason=reason)) if reason else rules.filter(reason__isnull=True)
    if not special_education:
        rules = rules.filter(special_education_only=False)
    return list(rules)


def checklist(permit: Permit) -> list[ChecklistItem]:
    """Each required document of the packet with the files uploaded for it.
    Uses permit.documents.all(), so prefetch it when listing many packets."""
    items = {
        rule.document_type_id: ChecklistItem(rule.document_type, rule.is_release)
        for rule in rules_for(
            kind=permit.kind, reason=permit.reason, special_education=permit.student.special_education
        )
    }
    for document in permit.documents.all():
        if document.document_type_id in items:
            items[document.document_type_id].documents.append(document)
    return list(items.values())


def release_rule(permit: Permit) -> DocumentRule | None:
    """The checklist line of the home district's release, for an incoming packet."""
    return next(
        (
            rule
            for rule in rules_for(
                kind=permit.kind, reason=permit.reason, special_education=permit.student.special_education
            )
            if rule.is_release
        ),
        None,
    )


def missing_documents(permit: Permit) -> list[DocumentType]:
    """What still stops the packet from being submitted. The release of an incoming
    inter-district packet may be missing when the family marks it pending."""
    return [
        item.document_type
        for item in checklist(permit)
        if not item.is_present and not (item.is_release and permit.release_pending)
    ]


def open_information_request(permit: Permit) -> InformationRequest | None:
    """The district's unanswered request for information while the packet waits for
    the family's answer, with the documents it names; None otherwise."""
    if permit.status != Permit.Status.INFO_REQUESTED:
        return None
    return permit.information_requests.filter(answered_at__isnull=True).prefetch_related("document_types").first()


def family_dashboard(family: Family) -> list[Student]:
    """The family's students with their packets, events, open information requests
    (with the documents asked for) and decision letters in a constant number of
    queries, whatever their number. Each permit gets `info_request` (see
    open_information_request) and `decision_letter`: the latest rendered letter of a
    decided packet, or None."""
    permits = Permit.objects.select_related("school_year", "requested_school", "reason").order_by(
        "-school_year__first_day_of_instruction", "-created_at"
    )
    students = list(
        Student.objects.filter(family=family).prefetch_related(
            Prefetch("permits", queryset=permits),
            Prefetch(
                "permits__events",
                queryset=PermitEvent.objects.only("id", "permit_id", "kind", "old_status", "new_status", "created_at"),
            ),
            Prefetch(
                "permits__information_requests",
                queryset=InformationRequest.objects.filter(answered_at__isnull=True).prefetch_related("document_types"),
                to_attr="open_information_requests",
            ),
            Prefetch(
                "permits__letters",
                # Letter's ordering puts the latest first. An information request's
                # letter is not a decision.
                queryset=Letter.objects.filter(rendered_at__isnull=False)
                .exclude(kind=Letter.Kind.INFORMATION_REQUEST)
                .only("id", "permit_id", "kind", "letter_date"),
                to_attr="decision_letters",
            ),
        )
    )
    for student in students:
        for permit in student.permits.all():
            asked = permit.open_information_requests
            permit.info_request = asked[0] if asked and permit.status == Permit.Status.INFO_REQUESTED else None
            letters = permit.decision_letters
            permit.decision_letter = letters[0] if letters and permit.status in DECIDED_STATUSES else None
    return students
