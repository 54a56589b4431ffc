"""The Spanish catalogue: complete, well-formed, and compiled.

No database is needed. The .po file is read with a small parser below (no gettext
tools are installed on servers), and every entry is looked up through Django's own
translation machinery with Spanish active: that proves the committed django.mo says
what the django.po says (a stale or missing .mo fails here).
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from applicants.models import Grade, Language
from permits.models import Permit, PermitKind

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PO_FILE = LOCALE_DIR / "es" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a singular entry
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        return f"{PO_FILE.name}:{self.line} {self.msgid[:60]!r}"


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, header included (msgid ""), obsolete (#~) ones skipped.

    Entries are separated by blank lines, as msgmerge and makemessages write them."""
    entries = []
    text = path.read_text(encoding="utf-8")
    offset = 1
    for block in re.split(r"\n[ \t]*\n", text):
        first_line, offset = offset, offset + block.count("\n") + 2
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines or all(line.startswith("#") for line in lines):
            continue
        entry, target = Entry(line=first_line), None
        for line in lines:
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                kind, index = target
                if kind == "msgstr":
                    entry.msgstr[index] += _unquote(line)
                else:
                    setattr(entry, kind, getattr(entry, kind) + _unquote(line))
            else:
                keyword, _, rest = line.partition(" ")
                if keyword.startswith("msgstr"):
                    index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
                    entry.msgstr[index], target = _unquote(rest), ("msgstr", index)
                elif keyword in ("msgctxt", "msgid", "msgid_plural"):
                    setattr(entry, keyword, _unquote(rest))
                    target = (keyword, 0)
                else:
                    raise AssertionError(f"{path}:{first_line}: cannot parse {line!r}")
        entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    assert PO_FILE.exists(), f"{PO_FILE} is missing: run makemessages (see locale/README.md)"
    return parse_po(PO_FILE)


@pytest.fixture(scope="module")
def messages(catalogue) -> list[Entry]:
    return [e for e in catalogue if e.msgid]


def test_parser_reads_the_whole_catalogue(catalogue, messages):
    assert catalogue[0].msgid == "" and "Content-Type" in catalogue[0].msgstr[0]
    assert len(messages) > 100
    assert len({(e.msgctxt, e.msgid) for e in messages}) == len(messages), "duplicate entries"


def test_header_declares_spanish_plurals(catalogue):
    header = catalogue[0].msgstr[0]
    assert "Language: es\n" in header
    assert "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header
    assert "fuzzy" not in catalogue[0].flags


def test_every_message_is_translated_and_none_is_fuzzy(messages):
    fuzzy = [e.label for e in messages if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy entries to review: {fuzzy}"
    empty = [e.label for e in messages if not e.msgstr or any(not s.strip() for s in e.msgstr.values())]
    assert not empty, f"untranslated entries: {empty}"
    wrong_forms = [e.label for e in messages if e.msgid_plural is not None and sorted(e.msgstr) != [0, 1]]
    assert not wrong_forms, f"plural entries need msgstr[0] and msgstr[1]: {wrong_forms}"


def test_placeholders_and_markup_are_kept(messages):
    problems = []
    for e in messages:
        for index, text in e.msgstr.items():
            source = e.msgid_plural if (index and e.msgid_plural) else e.msgid
            if Counter(PLACEHOLDER.findall(text)) != Counter(PLACEHOLDER.findall(source)):
                problems.append(f"{e.label}: placeholders differ in msgstr[{index}]")
            if Counter(TAG.findall(text)) != Counter(TAG.findall(source)):
                problems.append(f"{e.label}: HTML tags differ in msgstr[{index}]")
            # Some strings are printed inside HTML attributes (data-*, aria-label):
            # a translation must not bring a double quote the English does not have.
            if '"' in text and '"' not in source:
                problems.append(f"{e.label}: introduces a double quote; use « » instead")
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_matches_the_po_file(messages):
    """Every entry, looked up at run time with Spanish active, gives the .po's text."""
    assert MO_FILE.exists(), f"{MO_FILE} is missing: run compilemessages (see locale/README.md)"
    stale = []
    with translation.override("es"):
        for e in messages:
            if e.msgid_plural is None:
                if e.msgctxt is None:
                    got = translation.gettext(e.msgid)
                else:
                    got = translation.pgettext(e.msgctxt, e.msgid)
                if got != e.msgstr[0]:
                    stale.append(f"{e.label}: runtime gives {got!r}")
                continue
            for n, index in ((1, 0), (2, 1)):
                if e.msgctxt is None:
                    got = translation.ngettext(e.msgid, e.msgid_plural, n)
                else:
                    got = translation.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                if got != e.msgstr[index]:
                    stale.append(f"{e.label} (n={n}): runtime gives {got!r}")
    assert not stale, "django.mo is stale, run compilemessages:\n" + "\n".join(stale[:20])


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("Sign in", "Iniciar sesión"),
        ("Sign out", "Cerrar sesión"),
        ("Permit policy", "Política de permisos"),
        ("Start a permit request", "Iniciar una solicitud de permiso"),
        ("District of residence", "Distrito de residencia"),
        ("County board of education", "Junta de educación del condado"),
        ("Appeals", "Apelaciones"),
    ],
)
def test_key_pages_read_in_spanish(english, spanish):
    with translation.override("es"):
        assert translation.gettext(english) == spanish
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_model_choices_read_in_spanish():
    with translation.override("es"):
        assert str(Permit.Status.SUBMITTED.label) == "Enviada"
        assert str(Permit.Status.DENIED.label) == "Denegada"
        assert str(PermitKind.INTER_IN.label) == "Interdistrital, de ingreso"
        assert str(Grade.TK.label) == "Kínder de transición (TK)"
        assert str(Grade.G3.label) == "3.er grado"
        assert str(Language.SPANISH.label) == "Español"


def test_plural_and_placeholder_strings_work_at_run_time():
    singular = "The district aims to decide every request within %(days)s day of receipt."
    plural = "The district aims to decide every request within %(days)s days of receipt."
    with translation.override("es"):
        one = translation.ngettext(singular, plural, 1) % {"days": 1}
        many = translation.ngettext(singular, plural, 20) % {"days": 20}
        assert one.endswith("en un plazo de 1 día a partir de su recepción.")
        assert many.endswith("en un plazo de 20 días a partir de su recepción.")
        assert translation.gettext("Hello %(name)s,") % {"name": "Ana"} == "Hola, Ana:"
