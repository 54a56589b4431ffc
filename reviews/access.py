"""Who on the staff may see and do what.

Reading outside one's scope is a 404 (the packet "does not exist" for them); a
permitted read with a forbidden action is a 403. Parents never reach /staff/.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from config.clients import client_address
from permits.models import District, Document, Permit

from .models import RecordAccess, Role, StaffRole

# Which roles may take each action on a packet they can see.
ACTIONS: dict[str, set[str]] = {
    "work": {Role.TECHNICIAN, Role.DIRECTOR},  # claim, verify, request info, approve, deny
    "assign": {Role.TECHNICIAN, Role.DIRECTOR},
    # Voiding takes a request off the legal clock, and an information deadline past the
    # legal due date lets it drift into a deemed denial: the director's call only.
    "void": {Role.DIRECTOR},
    "override_info_deadline": {Role.DIRECTOR},
    "note": {Role.TECHNICIAN, Role.DIRECTOR, Role.SITE_ADMIN},
    "confirm_denial": {Role.DIRECTOR},
    "revoke": {Role.DIRECTOR},
    "appeals": {Role.DIRECTOR},
    "site_review": {Role.SITE_ADMIN},
    "reports": {Role.DIRECTOR, Role.DISTRICT_ADMIN},
    "letters": {Role.DIRECTOR},
    "audit": {Role.DIRECTOR},
    # Open enrollment (enrollment.staff_views): see the desk and verify claimed priorities;
    # the drawing itself (commitment, freeze, trial runs, the run, publication) is for
    # those who answer to the board for it.
    "enrollment": {Role.TECHNICIAN, Role.DIRECTOR, Role.DISTRICT_ADMIN},
    "lottery": {Role.DIRECTOR, Role.DISTRICT_ADMIN},
}


@dataclass
class StaffScope:
    roles: set[str]
    school_ids: set[int] = field(default_factory=set)

    @property
    def sees_whole_district(self) -> bool:
        return bool(self.roles & {Role.TECHNICIAN, Role.DIRECTOR, Role.DISTRICT_ADMIN})

    def may(self, action: str) -> bool:
        return bool(self.roles & ACTIONS[action])

    def may_deny_finally(self, district: District) -> bool:
        """A director's denial is final; a technician's only where the district lets
        technicians deny without the director's confirmation."""
        return Role.DIRECTOR in self.roles or (Role.TECHNICIAN in self.roles and district.technicians_can_deny)

    def permits(self, queryset: QuerySet[Permit] | None = None) -> QuerySet[Permit]:
        queryset = Permit.objects.all() if queryset is None else queryset
        if self.sees_whole_district:
            return queryset
        ids = self.school_ids
        return queryset.filter(Q(requested_school__in=ids) | Q(placed_school__in=ids) | Q(school_of_residence__in=ids))


def scope_of(user) -> StaffScope:
    """The staff scope of a signed-in user; a 404 for parents and strangers."""
    if not user.is_authenticated or user.is_guardian or not user.is_staff:
        raise Http404
    cached = getattr(user, "_staff_scope", None)
    if cached is None:
        rows = StaffRole.objects.filter(user=user).prefetch_related("schools")
        cached = StaffScope(
            roles={row.role for row in rows},
            school_ids={school.pk for row in rows for school in row.schools.all()},
        )
        if not cached.roles:
            raise Http404
        user._staff_scope = cached
    return cached


def require(user, action: str) -> StaffScope:
    scope = scope_of(user)
    if not scope.may(action):
        raise PermissionDenied
    return scope


@dataclass(frozen=True)
class MenuEntry:
    url_name: str
    label: str | Promise
    action: str | None  # None: every staff role (the queue)


# The staff menu: each page with the action its view requires (`require`), so that a
# role is shown only what it may open. tests/reviews/test_menus.py holds each view to
# the action named here.
STAFF_MENU: tuple[MenuEntry, ...] = (
    MenuEntry("staff_queue", _("Queue"), None),
    MenuEntry("staff_periodic_review", _("Periodic review"), "site_review"),
    # Addresses the boundary lookup could not place: the district-wide roles decide.
    MenuEntry("staff_addresses", _("Addresses"), "work"),
    # enrollment.staff_urls; named by string only, since the staff desk sits below open
    # enrollment and never imports it.
    MenuEntry("staff_enrollment", _("Open enrollment"), "enrollment"),
    MenuEntry("staff_compliance", _("Deadlines"), "reports"),
    MenuEntry("staff_reports", _("Reports"), "reports"),
    MenuEntry("letter_list", _("Letters"), "letters"),
    MenuEntry("staff_access_log", _("Disclosures"), "audit"),
)


def menu_for(scope: StaffScope) -> list[MenuEntry]:
    """The menu entries of the pages this scope may open, in menu order."""
    return [entry for entry in STAFF_MENU if entry.action is None or scope.may(entry.action)]


def get_permit_for_staff(user, pk: int, action: str | None = None) -> Permit:
    """The packet if the user's role and school cover it (else 404), and, when an
    action is named, if the role may take it (else 403)."""
    scope = scope_of(user)
    # Only what the scope check and every caller need; a page that shows more loads it
    # itself (the review page). Eight joins here cost PostgreSQL 6 ms of planning for a
    # 0.3 ms primary-key read, on every staff action.
    queryset = Permit.objects.select_related("student", "family", "school_year")
    try:
        permit = scope.permits(queryset).get(pk=pk)
    except Permit.DoesNotExist:
        raise Http404 from None
    if action and not scope.may(action):
        raise PermissionDenied
    return permit


def record_access(request, *, purpose: str, document=None, letters=()) -> None:
    """Write the FERPA record of a staff member opening a student's document or letters."""
    address = client_address(request)
    rows = (
        [
            RecordAccess(
                user=request.user, permit_id=document.permit_id, document=document, purpose=purpose, address=address
            )
        ]
        if document is not None
        else []
    )
    rows += [
        RecordAccess(user=request.user, permit_id=letter.permit_id, letter=letter, purpose=purpose, address=address)
        for letter in letters
    ]
    RecordAccess.objects.bulk_create(rows)


def get_document_for_staff(user, pk: int, action: str | None = None) -> Document:
    try:
        document = Document.objects.select_related("permit", "document_type").get(pk=pk)
    except Document.DoesNotExist:
        raise Http404 from None
    get_permit_for_staff(user, document.permit_id, action)
    return document
