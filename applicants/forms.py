from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Family, Language, Student, User, normalize_email


class EmailLoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": _("That email address and password do not match an account."),
        "inactive": _("This account is disabled."),
        "unconfirmed": _(
            "Please confirm your email address first: open the link we emailed you "
            "(look in your spam folder too). We have sent it again."
        ),
    }

    def clean_username(self):
        return normalize_email(self.cleaned_data["username"])

    def confirm_login_allowed(self, user):
        if not user.is_active and user.email_verified_at is None:
            services.send_verification_email(user=user)
            raise ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")
        super().confirm_login_allowed(user)


class PasswordFields(forms.Form):
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters; not a common password."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", ValidationError(_("The two passwords differ."), code="mismatch"))
        elif p1:
            user = User(
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, user)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class GuardianNameFields(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


class SignUpForm(GuardianNameFields, PasswordFields):
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    language = forms.ChoiceField(label=_("Preferred language for letters and emails"), choices=Language.choices)
    field_order = ["email", "first_name", "last_name", "phone", "language", "password1", "password2"]

    def clean_email(self):
        # A registered address is not an error here: saying so would tell anyone
        # which addresses have accounts. The service emails the owner instead.
        return normalize_email(self.cleaned_data["email"])


class AcceptInvitationForm(GuardianNameFields, PasswordFields):
    pass


class FamilyForm(forms.ModelForm):
    class Meta:
        model = Family
        fields = ["street", "unit", "city", "state", "postal_code", "preferred_language"]

    def clean_postal_code(self):
        code = self.cleaned_data["postal_code"].strip()
        if code and not (len(code) in (5, 10) and code[:5].isdigit()):
            raise ValidationError(_("Enter a 5-digit ZIP code."), code="invalid_zip")
        return code


class GuardianForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone"]


class InviteGuardianForm(forms.Form):
    email = forms.EmailField(label=_("Email address of the other guardian"))

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class StudentForm(forms.ModelForm):
    class Meta:
        model = Student
        fields = [
            "legal_first_name",
            "legal_middle_name",
            "legal_last_name",
            "date_of_birth",
            "grade",
            "current_school",
            "current_district",
            "special_education",
        ]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born >= today or born.year < today.year - 25:
            raise ValidationError(_("Enter the student's real date of birth."), code="implausible_birth_date")
        return born


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
    )


class OutboxPasswordResetForm(PasswordResetForm):
    """Password reset mail goes through the outbox like every other email, in the
    family's language, one a minute per account at most."""

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        services.send_password_reset(user=context["user"], uid=context["uid"], token=context["token"])
