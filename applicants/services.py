"""Family accounts: sign-up, email confirmation and a second guardian."""

from datetime import date

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from outbox.emails import queue_email

from .addresses import StandardAddress
from .models import Family, GuardianInvitation, Residence, User, normalize_email
from .tokens import email_verification_token

INVITATION_SALT = "applicants.invitation"
INVITATION_MAX_AGE = 60 * 60 * 24 * 7


class AccountError(Exception):
    """Shown to the person as it is."""


@transaction.atomic
def register_family(*, email: str, password: str, first_name: str, last_name: str, phone: str, language: str) -> None:
    """Create a family and its first guardian. The account stays inactive until the
    address is confirmed through the emailed link.

    An address that already has an account gets the very same answer -- the sign-up
    form must not tell a stranger who is registered -- and its owner is emailed how to
    sign in or reset the password instead. The password is hashed either way, so the
    answer takes as long too."""
    email = normalize_email(email)
    password_hash = make_password(password)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                family = Family.objects.create(preferred_language=language)
                user = User(
                    email=email,
                    password=password_hash,
                    first_name=first_name,
                    last_name=last_name,
                    phone=phone,
                    family=family,
                    is_active=False,
                )
                user.save()
        except IntegrityError:  # registered a moment ago, by a second submit or by someone else
            existing = User.objects.get(email__iexact=email)
        else:
            send_verification_email(user=user)
            return
    _queue_once_a_minute(
        "account-exists",
        user=existing,
        template="account_exists",
        context={"user": existing, "sign_in": _site_link("login"), "reset": _site_link("password_reset")},
    )


def send_verification_email(*, user: User) -> None:
    token = email_verification_token.make_token(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    _queue_once_a_minute(
        "verify",
        user=user,
        template="verify_email",
        context={"user": user, "link": _site_link("verify_email", uid, token)},
    )


def send_password_reset(*, user: User, uid: str, token: str) -> None:
    _queue_once_a_minute(
        "reset", user=user, template="password_reset", context={"user": user, "uid": uid, "token": token}
    )


def _queue_once_a_minute(kind: str, *, user: User, template: str, context: dict) -> None:
    """One email of a kind a minute per account at most, however often a form is
    submitted and however the address is spelled: nobody can flood a mailbox."""
    minute = timezone.now().strftime("%Y%m%d%H%M")
    queue_email(
        key=f"{kind}:{user.pk}:{minute}", to=user.email, template=template, language=user.language, context=context
    )


def _site_link(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


@transaction.atomic
def confirm_email(*, user: User, token: str) -> bool:
    if user.email_verified_at or not email_verification_token.check_token(user, token):
        return False
    user.email_verified_at = timezone.now()
    user.is_active = True
    user.save(update_fields=["email_verified_at", "is_active"])
    return True


@transaction.atomic
def invite_guardian(*, family: Family, email: str, by: User) -> GuardianInvitation:
    """Invite a second guardian to the same family by email.

    Any signed-in parent can invite any address, so the answer must not tell whether
    the address has an account elsewhere: the invitation is recorded either way, and
    an address that already has an account is told by email why it cannot join with
    it (an account belongs to one family) instead of receiving a link."""
    email = normalize_email(email)
    if family.guardians.filter(email__iexact=email).exists():
        raise AccountError(_("%(email)s is already a guardian in your family.") % {"email": email})
    invitation = GuardianInvitation.objects.create(family=family, email=email, invited_by=by)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        template = "guardian_invitation"
        link = _site_link("accept_invitation", signing.dumps(invitation.pk, salt=INVITATION_SALT))
    else:
        template = "guardian_invitation_existing"
        link = _site_link("login")
    queue_email(
        key=f"invitation:{invitation.pk}",
        to=email,
        template=template,
        language=family.preferred_language,
        context={"inviter": by, "link": link},
    )
    return invitation


def invitation_from_token(token: str) -> GuardianInvitation | None:
    try:
        pk = signing.loads(token, salt=INVITATION_SALT, max_age=INVITATION_MAX_AGE)
    except signing.BadSignature:
        return None
    return GuardianInvitation.objects.filter(pk=pk, accepted_at__isnull=True).first()


@transaction.atomic
def accept_invitation(
    *, invitation: GuardianInvitation, password: str, first_name: str, last_name: str, phone: str
) -> User:
    """Create the invited guardian's account in the inviting family. The emailed link
    proves the address, so the account is active at once."""
    invitation = GuardianInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise AccountError(_("This invitation has already been used."))
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=invitation.email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                phone=phone,
                family=invitation.family,
                email_verified_at=timezone.now(),
            )
    except IntegrityError:
        raise AccountError(_("This email address already has an account in the portal.")) from None
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return user


@transaction.atomic
def record_residence(
    *, family: Family, address: StandardAddress, entered: str, since: date, by: User | None
) -> Residence:
    """The family lives at `address` from `since`: a new Residence (a move is an event,
    never an edit), and the family's street fields become its USPS form for letters.

    Saving the same address again records nothing."""
    family = Family.objects.select_for_update().get(pk=family.pk)
    current = family.residences.first()
    if current and current.address == address:
        return current
    residence = Residence.objects.create(
        family=family,
        entered=entered,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        state=address.state,
        postal_code=address.postal_code,
        standardized=address.standardized,
        since=since,
        recorded_by=by,
    )
    family.street, family.unit = address.line1, address.line2
    family.city, family.state, family.postal_code = address.city, address.state, address.postal_code
    family.save(update_fields=["street", "unit", "city", "state", "postal_code"])
    return residence
