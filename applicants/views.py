import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from . import services, two_factor
from .access import family_of, get_student_for
from .forms import (
    AcceptInvitationForm,
    EmailLoginForm,
    FamilyForm,
    GuardianForm,
    InviteGuardianForm,
    OneTimeCodeForm,
    OutboxPasswordResetForm,
    SignUpForm,
    StudentForm,
)
from .models import User

# An address that did not parse is kept as typed, not refused: a person reads it.
UNREAD_ADDRESS = gettext_lazy(
    "We could not read your address in the usual postal form, so it is saved as you typed it. "
    "The district office will check it."
)


def _remember_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


class LoginView(auth_views.LoginView):
    form_class = EmailLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if user.is_guardian:
            # A guardian sees the portal in the family's language from the first page.
            _remember_language(response, user.family.preferred_language)
        return response


login_view = login_not_required(LoginView.as_view())


class PasswordResetView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("family_dashboard")
    form = SignUpForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # The same answer whether or not the address already has an account.
        services.register_family(
            email=data["email"],
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            phone=data["phone"],
            language=data["language"],
        )
        response = render(request, "applicants/signup_done.html", {"email": data["email"]})
        return _remember_language(response, data["language"])
    return render(request, "applicants/signup_form.html", {"form": form})


@login_not_required
def verify_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is not None and services.confirm_email(user=user, token=token):
        login(request, user, backend="applicants.backends.EmailBackend")
        messages.success(request, _("Thank you: your email address is confirmed."))
        return redirect("family_dashboard")
    return render(request, "applicants/verify_failed.html", status=400)


@login_not_required
@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_from_token(token)
    if invitation is None:
        return render(request, "applicants/invitation_invalid.html", status=404)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.accept_invitation(
                invitation=invitation,
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                phone=data["phone"],
            )
        except services.AccountError as error:
            messages.error(request, str(error))
        else:
            login(request, user, backend="applicants.backends.EmailBackend")
            messages.success(request, _("Welcome! You now share this family's account."))
            return _remember_language(redirect("family_dashboard"), user.family.preferred_language)
    return render(request, "applicants/invitation_accept.html", {"form": form, "invitation": invitation})


@require_http_methods(["GET", "POST"])
def family_profile(request: HttpRequest) -> HttpResponse:
    family = family_of(request.user)
    family_form = FamilyForm(request.POST or None, instance=family, prefix="family")
    guardian_form = GuardianForm(request.POST or None, instance=request.user, prefix="me")
    if request.method == "POST" and family_form.is_valid() and guardian_form.is_valid():
        address = family_form.address
        with transaction.atomic():
            family_form.save()
            guardian_form.save()
            if address is not None:
                services.record_residence(
                    family=family,
                    address=address,
                    entered=family_form.entered_text(),
                    since=family_form.cleaned_data["since"],
                    by=request.user,
                )
        messages.success(request, _("Your family profile is saved."))
        if address is not None and not address.standardized:
            messages.warning(request, str(UNREAD_ADDRESS))
        return _remember_language(redirect("family_dashboard"), family.preferred_language)
    current = family_form.current
    return render(
        request,
        "applicants/family_form.html",
        {
            "family_form": family_form,
            "guardian_form": guardian_form,
            "guardians": family.guardians.all(),
            "invitations": family.invitations.filter(accepted_at__isnull=True),
            "invite_form": InviteGuardianForm(),
            "unread_address": UNREAD_ADDRESS if current is not None and not current.standardized else "",
        },
    )


@require_http_methods(["POST"])
def invite_guardian(request: HttpRequest) -> HttpResponse:
    family = family_of(request.user)
    form = InviteGuardianForm(request.POST)
    if form.is_valid():
        try:
            services.invite_guardian(family=family, email=form.cleaned_data["email"], by=request.user)
        except services.AccountError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
    else:
        messages.error(request, _("Enter a valid email address."))
    return redirect("family_profile")


@require_http_methods(["GET", "POST"])
def student_create(request: HttpRequest) -> HttpResponse:
    family = family_of(request.user)
    form = StudentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        student = form.save(commit=False)
        student.family = family
        student.save()
        messages.success(request, _("%(name)s was added.") % {"name": student.full_name})
        return redirect("family_dashboard")
    return render(request, "applicants/student_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def student_edit(request: HttpRequest, pk: int) -> HttpResponse:
    student = get_student_for(request.user, pk)
    form = StudentForm(request.POST or None, instance=student)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("%(name)s was updated.") % {"name": student.full_name})
        return redirect("family_dashboard")
    return render(request, "applicants/student_form.html", {"form": form, "student": student})


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a staff sign-in."""
    if not two_factor.needs_second_factor(request.user):
        raise Http404
    if not two_factor.has_authenticator(request.user):
        return redirect("two_factor_setup")
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request, form.cleaned_data["code"]):
            return redirect(_safe_next(request) or "staff_queue")
        form.add_error("code", _("This code is not valid. Codes change every 30 seconds; try the new one."))
    return render(request, "applicants/two_factor_verify.html", {"form": form})


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """First staff sign-in: connect an authenticator app, get recovery codes."""
    if not two_factor.needs_second_factor(request.user):
        raise Http404
    if two_factor.has_authenticator(request.user) and not request.user.is_verified():
        return redirect("two_factor_verify")
    device = two_factor.pending_device(request.user)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_device(request, device, form.cleaned_data["code"])
        if codes is not None:
            return render(request, "applicants/two_factor_codes.html", {"codes": codes})
        form.add_error("code", _("This code is not valid. Check the time on your phone and try again."))
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "applicants/two_factor_setup.html",
        {
            "form": form,
            "qr": two_factor.qr_code(device),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
    )


def _safe_next(request: HttpRequest) -> str | None:
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
