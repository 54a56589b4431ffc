"""Family accounts: sign-up, email confirmation and a second guardian."""

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from outbox.emails import queue_email

from .models import Family, GuardianInvitation, User
from .tokens import email_verification_token

INVITATION_SALT = "applicants.invitation"
INVITATION_MAX_AGE = 60 * 60 * 24 * 7


class AccountError(Exception):
    """Shown to the person as it is."""


@transaction.atomic
def register_family(*, email: str, password: str, first_name: str, last_name: str, phone: str, language: str) -> User:
    """Create a family and its first guardian. The account stays inactive until the
    address is confirmed through the emailed link."""
    family = Family.objects.create(preferred_language=language)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                phone=phone,
                family=family,
                is_active=False,
            )
    except IntegrityError:
        raise AccountError(_("An account with this email address already exists.")) from None
    send_verification_email(user=user)
    return user


def send_verification_email(*, user: User) -> None:
    token = email_verification_token.make_token(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = settings.SITE_URL + reverse("verify_email", args=[uid, token])
    # One link a minute at most, however often the form is submitted.
    minute = timezone.now().strftime("%Y%m%d%H%M")
    queue_email(
        key=f"verify:{user.pk}:{minute}",
        to=user.email,
        template="verify_email",
        language=user.language,
        context={"user": user, "link": link},
    )


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
    """Invite a second guardian to the same family by email."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise AccountError(_("This email address already has an account in the portal."))
    invitation = GuardianInvitation.objects.create(family=family, email=email, invited_by=by)
    token = signing.dumps(invitation.pk, salt=INVITATION_SALT)
    queue_email(
        key=f"invitation:{invitation.pk}",
        to=email,
        template="guardian_invitation",
        language=family.preferred_language,
        context={"inviter": by, "link": settings.SITE_URL + reverse("accept_invitation", args=[token])},
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
