from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import services
from .addresses import NotAResidence, StandardAddress, standardize
from .models import Family, Language, Residence, Student, User, normalize_email


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


class AddressFormMixin:
    """A home address typed into `street`, `unit`, `city`, `state` (optional) and
    `postal_code` fields, read into USPS form (applicants.addresses)."""

    def clean_postal_code(self):
        code = self.cleaned_data["postal_code"].strip()
        if code and not (len(code) in (5, 10) and code[:5].isdigit()):
            raise ValidationError(_("Enter a 5-digit ZIP code."), code="invalid_zip")
        return code

    def standard_address(self) -> StandardAddress | None:
        """The address in USPS form, or as typed (standardized=False) when it does not
        parse: that is for the office to check, not an error. A post-office box is a
        field error; None then."""
        data = self.cleaned_data
        try:
            return standardize(
                data.get("street", ""),
                data.get("unit", ""),
                data.get("city", ""),
                data.get("state") or "CA",
                data.get("postal_code", ""),
            )
        except NotAResidence:
            self.add_error("street", ValidationError(NotAResidence.message, code="not_a_residence"))
            return None

    def entered_text(self) -> str:
        """The address as the family typed it, kept beside its USPS form."""
        data = self.cleaned_data
        state_zip = f"{data.get('state') or ''} {data.get('postal_code', '')}".strip()
        return ", ".join(p for p in (data.get("street"), data.get("unit"), data.get("city"), state_zip) if p)


def address_field(name: str, **kwargs) -> forms.Field:
    """A form field for one part of an address, labelled like the family's own."""
    return Family._meta.get_field(name).formfield(**kwargs)


class FamilyForm(AddressFormMixin, forms.ModelForm):
    """The family's home address and language. Saving the form saves the language
    only: the address is recorded by applicants.services.record_residence, a move
    being a new Residence from its date (the view calls it with `address` and
    `since`)."""

    street = address_field("street")
    unit = address_field("unit")
    city = address_field("city")
    state = address_field("state")
    postal_code = address_field("postal_code")
    since = forms.DateField(
        label=capfirst(Residence._meta.get_field("since").verbose_name),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("If you moved, the day you started living at the new address."),
    )

    class Meta:
        model = Family
        fields = ["preferred_language"]

    field_order = ["street", "unit", "city", "state", "postal_code", "since", "preferred_language"]
    ADDRESS_FIELDS = ("street", "unit", "city", "postal_code")

    def __init__(self, *args, instance: Family, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        self.current: Residence | None = instance.residences.first()
        self.address: StandardAddress | None = None
        for name in ("street", "unit", "city", "state", "postal_code"):
            self.initial.setdefault(name, getattr(instance, name))
        self.initial.setdefault("since", timezone.localdate())

    def clean_since(self):
        since = self.cleaned_data["since"] or timezone.localdate()
        if since > timezone.localdate():
            raise ValidationError(_("The date you started living here cannot be in the future."), code="future")
        return since

    def clean(self):
        data = super().clean()
        given = [name for name in self.ADDRESS_FIELDS if data.get(name)]
        if not given:
            if self.current is not None:  # a move is a new address, never none
                self.add_error("street", ValidationError(_("Enter your home address."), code="required"))
            return data
        for name in ("street", "city", "postal_code"):
            if name not in self.errors and not data.get(name):
                self.add_error(name, ValidationError(self.fields[name].error_messages["required"], code="required"))
        if self.errors:
            return data
        self.address = self.standard_address()
        since = data.get("since")
        if self.address and self.is_a_move() and since and self.current and since < self.current.since:
            self.add_error(
                "since",
                ValidationError(
                    _("Your previous address is recorded from %(date)s: the move cannot be earlier."),
                    code="before_previous",
                    params={"date": date_format(self.current.since, "DATE_FORMAT")},
                ),
            )
        return data

    def is_a_move(self) -> bool:
        """Whether the address differs from the current residence (saving the same one records nothing)."""
        return self.current is None or self.current.address != self.address

    def save(self, commit: bool = True) -> Family:
        # Only the language: the street fields are the current Residence's, written by
        # record_residence under the family's row lock.
        if commit:
            self.instance.save(update_fields=["preferred_language"])
        return self.instance


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
