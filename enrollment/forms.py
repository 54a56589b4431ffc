from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from applicants.models import Grade, Student

from .models import Application, Cycle, Priority, Program
from .services import Claim

CHOICE = "choice_{}"
# The evidence fields of each claimable priority, per ranked school.
EVIDENCE = {
    Priority.SIBLING: ("sibling_name_{}", "sibling_grade_{}"),
    Priority.STAFF_CHILD: ("staff_name_{}", "staff_position_{}"),
    Priority.SAFETY: ("safety_{}",),
}
# Evidence is stored as labelled lines, always in English, so that staff read it the
# same whatever language the family used, and so that the form reads it back: saving
# the form unchanged must give the same text, or a verified claim would lose its
# verification (services._keep_claims keeps a decision only for unchanged evidence).
SIBLING_LINES = ("Sibling", "Grade")
STAFF_LINES = ("Staff member", "Position")


def _grade_names() -> dict[int, str]:
    with translation.override("en"):
        return {value: str(label) for value, label in Grade.choices}


def evidence_text(kind: str, parts: list[str]) -> str:
    if kind == Priority.SIBLING:
        name, grade = parts
        return f"{SIBLING_LINES[0]}: {name}\n{SIBLING_LINES[1]}: {_grade_names()[int(grade)]}"
    if kind == Priority.STAFF_CHILD:
        return "\n".join(f"{label}: {part}" for label, part in zip(STAFF_LINES, parts, strict=True))
    return parts[0]


def evidence_parts(kind: str, evidence: str) -> list[str]:
    """The form's fields for a claim's stored evidence (evidence_text read back)."""
    if kind == Priority.SAFETY:
        return [evidence]
    labels = SIBLING_LINES if kind == Priority.SIBLING else STAFF_LINES
    lines = dict(line.partition(": ")[::2] for line in evidence.splitlines())
    parts = [lines.get(label, "") for label in labels]
    if kind == Priority.SIBLING:
        grades = {name: value for value, name in _grade_names().items()}
        parts[1] = grades.get(parts[1], "")
    return parts


@dataclass
class RankedSchool:
    """One rank of the form: the program select and the priorities claimed there."""

    rank: int
    choice: BoundField
    sibling: list[BoundField]
    staff: list[BoundField]
    safety: BoundField

    @property
    def claims_anything(self) -> bool:
        return any(field.value() for field in [*self.sibling, *self.staff, self.safety])


class ApplicationForm(forms.Form):
    """The ranked programs of one student's grade, up to the cycle's number, and per
    ranked school the priorities claimed with their evidence. The window, the late rule
    and the rest are the service's (services.submit_application)."""

    def __init__(self, *args, cycle: Cycle, student: Student, application: Application | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cycle, self.student = cycle, student
        # One query for every select, however many ranks.
        self.programs = {p.pk: p for p in cycle.programs.filter(grade=student.grade).select_related("school")}
        options = [("", _("(no school)"))] + [(p.pk, self._option_label(p)) for p in self.programs.values()]
        for rank in range(1, cycle.max_choices + 1):
            self.fields[CHOICE.format(rank)] = forms.TypedChoiceField(
                label=_("Choice %(rank)s") % {"rank": rank},
                choices=options,
                coerce=int,
                empty_value=None,
                required=rank == 1,
                help_text=_("The school you want most.") if rank == 1 else "",
                error_messages={
                    "required": _("Choose at least one school."),
                    "invalid_choice": _("That program is not open to students entering %(grade)s.")
                    % {"grade": student.get_grade_display()},
                },
            )
            self.fields[f"sibling_name_{rank}"] = forms.CharField(
                label=_("Name of the brother or sister at this school"), required=False, max_length=200
            )
            self.fields[f"sibling_grade_{rank}"] = forms.TypedChoiceField(
                label=_("Their grade this year"),
                choices=[("", "")] + list(Grade.choices),
                coerce=int,
                empty_value=None,
                required=False,
            )
            self.fields[f"staff_name_{rank}"] = forms.CharField(
                label=_("Name of the parent or guardian on the school's staff"), required=False, max_length=200
            )
            self.fields[f"staff_position_{rank}"] = forms.CharField(
                label=_("Their position at the school"), required=False, max_length=200
            )
            self.fields[f"safety_{rank}"] = forms.CharField(
                label=_("Bullying or safety: what happened, and any report or case number"),
                required=False,
                max_length=3000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        siblings = (
            Application.objects.filter(cycle=cycle, family=student.family_id, withdrawn_at__isnull=True)
            .exclude(student=student)
            .select_related("student")
        )
        sibling_list = list(siblings)
        if sibling_list:
            self.fields["together_with"] = forms.ModelChoiceField(
                label=_("Apply together with a brother or sister"),
                queryset=siblings,
                required=False,
                empty_label=_("No, apply on their own"),
                help_text=_(
                    "Brothers and sisters who apply together share one lottery number, so neither is drawn "
                    "ahead of the other. Each is still placed by their own choices and priorities: sharing a "
                    "number does not promise the same school."
                ),
            )
            self.fields["together_with"].label_from_instance = lambda a: a.student.full_name
        if application is not None and not self.is_bound:
            self.initial.update(self._initial_from(application, sibling_list))

    @staticmethod
    def _option_label(program: Program) -> str:
        return f"{program.school.name} · {program.strand}" if program.strand else program.school.name

    def _initial_from(self, application: Application, siblings: list[Application]) -> dict:
        initial: dict = {}
        claims = {}
        for claim in application.claims.all():
            if claim.kind in EVIDENCE:
                claims[(claim.school_id, claim.kind)] = claim.evidence
        for choice in application.choices.all():
            if choice.rank > self.cycle.max_choices or choice.program_id not in self.programs:
                continue
            initial[CHOICE.format(choice.rank)] = choice.program_id
            school_id = self.programs[choice.program_id].school_id
            for kind, names in EVIDENCE.items():
                if (school_id, kind) in claims:
                    for name, part in zip(names, evidence_parts(kind, claims[(school_id, kind)]), strict=True):
                        initial[name.format(choice.rank)] = part
        if "together_with" in self.fields and application.lottery_id != application.public_id:
            initial["together_with"] = next((a for a in siblings if a.lottery_id == application.lottery_id), None)
        return initial

    @property
    def ranks(self) -> list[RankedSchool]:
        return [
            RankedSchool(
                rank=rank,
                choice=self[CHOICE.format(rank)],
                sibling=[self[f"sibling_name_{rank}"], self[f"sibling_grade_{rank}"]],
                staff=[self[f"staff_name_{rank}"], self[f"staff_position_{rank}"]],
                safety=self[f"safety_{rank}"],
            )
            for rank in range(1, self.cycle.max_choices + 1)
        ]

    def clean(self):
        data = super().clean()
        # A page loaded before the district lowered the number of choices: refused, never
        # silently cut short.
        extra = [k for k, v in self.data.items() if k.startswith("choice_") and k not in self.fields and v]
        if extra:
            raise ValidationError(
                ngettext_lazy("You may rank only %(n)d school.", "You may rank at most %(n)d schools.", "n"),
                code="too_many",
                params={"n": self.cycle.max_choices},
            )
        programs, claims, claimed = [], [], {}
        for rank in range(1, self.cycle.max_choices + 1):
            pk = data.get(CHOICE.format(rank))
            program = self.programs.get(pk) if pk else None
            if program is not None and program in programs:
                self.add_error(
                    CHOICE.format(rank),
                    ValidationError(_("Each school may be ranked only once."), code="ranked_twice"),
                )
                continue
            if program is not None:
                programs.append(program)
            for kind, names in EVIDENCE.items():
                parts = [data.get(name.format(rank)) for name in names]
                parts = [str(p).strip() if p is not None else "" for p in parts]
                if not any(parts):
                    continue
                if program is None:
                    self.add_error(
                        names[0].format(rank),
                        ValidationError(_("Choose a school before claiming a priority there."), code="no_school"),
                    )
                    continue
                missing = [name.format(rank) for name, part in zip(names, parts, strict=True) if not part]
                for name in missing:
                    self.add_error(name, ValidationError(_("Needed for this priority."), code="evidence_missing"))
                if missing:
                    continue
                evidence = evidence_text(kind, parts)
                key = (program.school_id, kind)
                if key in claimed and claimed[key] != evidence:
                    # Two strands of one school: the priority is the school's, stated once.
                    self.add_error(
                        names[0].format(rank),
                        ValidationError(
                            _("You already claimed this priority at %(school)s with other details."),
                            code="claimed_twice",
                            params={"school": program.school.name},
                        ),
                    )
                elif key not in claimed:
                    claimed[key] = evidence
                    claims.append(Claim(school_id=program.school_id, kind=kind, evidence=evidence))
        data["programs"], data["claims"] = programs, claims
        return data


class SessionSignupForm(forms.Form):
    people = forms.TypedChoiceField(
        label=_("People coming"), choices=[(n, n) for n in range(1, 7)], coerce=int, initial=1
    )
