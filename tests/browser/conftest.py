"""Fixtures and helpers for the browser tests: one Chromium per session, a fresh
context (cookies, locale) per test, and the few steps that several tests repeat."""

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.text import capfirst
from playwright.sync_api import Browser, Page, expect, sync_playwright

from demo.samples import sample_pdf

# Playwright's sync API runs an event loop in the test thread, and Django refuses ORM
# calls from a thread with a running loop unless told that this is intended.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous for a page load on a busy machine, far below pytest's patience.
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)

Translate = Callable[[str], str]


def english(text: str) -> str:
    return text


def spanish(msgid: str, *, cap: bool = False) -> str:
    """The Spanish text the portal shows for `msgid`, from the project's catalogue.
    Fails when the catalogue has no translation, so that a test never silently
    drives the English page. `cap` mirrors Django's capitalised form labels of
    model fields (verbose names are lower case)."""
    with translation.override("es"):
        text = str(translation.gettext(msgid))
    assert text != msgid, f"locale/es has no Spanish translation for {msgid!r}"
    return capfirst(text) if cap else text


# --- Browser ------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium, or deselect with -m 'not browser'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_locale() -> str:
    """The browser's locale (Accept-Language). Override per test with
    `@pytest.mark.parametrize("browser_locale", ["es-MX"])`."""
    return "en-US"


@pytest.fixture
def site_url(settings, live_server) -> str:
    """Links in emails point at the live server of this test run."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def page(browser, browser_locale, transactional_db, site_url) -> Page:
    context = browser.new_context(base_url=site_url, locale=browser_locale, timezone_id="America/Los_Angeles")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def new_page(browser, browser_locale, transactional_db, site_url) -> Callable[[], Page]:
    """Opens further tabs, each in its own context (its own cookies), set up like
    `page`: for a test in which two people work at the same time, say a technician
    and a parent."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(base_url=site_url, locale=browser_locale, timezone_id="America/Los_Angeles")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


# --- Helpers ------------------------------------------------------------------


def field(page: Page, label: str):
    """The form control whose <label> reads exactly `label` (crispy-forms adds an
    asterisk to required fields), so that "Password" does not also find
    "Password again"."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def button(page: Page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def link(page: Page, name: str):
    return page.get_by_role("link", name=name, exact=True)


def disclosure(page: Page, summary: str):
    """Open the <details> element whose <summary> reads `summary` and return it, so
    that its form's labels and buttons are looked up inside it only."""
    details = page.locator("details").filter(
        has=page.locator("summary", has_text=re.compile(rf"^\s*{re.escape(summary)}\s*$"))
    )
    details.locator("summary").first.click()
    expect(details).to_have_attribute("open", "")
    return details


def log_out(page: Page, t: Translate = english) -> None:
    button(page, t("Sign out")).click()
    expect(link(page, t("Sign in")).first).to_be_visible()


def log_in(page: Page, email: str, password: str, t: Translate = english) -> None:
    """Sign in through the navbar's link and the login form, in the page's language."""
    link(page, t("Sign in")).first.click()
    expect(page.get_by_role("heading", name=t("Sign in"), exact=True)).to_be_visible()
    field(page, t("Email address")).fill(email)
    field(page, t("Password")).fill(password)
    button(page, t("Sign in")).click()
    expect(button(page, t("Sign out"))).to_be_visible()
    from applicants.models import User

    user = User.objects.get(email__iexact=email)
    if user.is_staff and user.family_id is None:
        # Staff accounts have a second step: a one-time code (here a recovery code).
        from tests.conftest import recovery_code

        expect(page.get_by_role("heading", name=t("Second step of sign-in"))).to_be_visible()
        field(page, t("Code")).fill(recovery_code(user))
        button(page, t("Verify")).click()
        expect(page.get_by_role("heading", name=t("Second step of sign-in"))).to_have_count(0)


def write_pdf(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_bytes(sample_pdf(text))
    return path


def write_fake_pdf(directory: Path, name: str = "not-really.pdf") -> Path:
    """A web page wearing a .pdf name."""
    path = directory / name
    path.write_bytes(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n")
    return path


def checklist_item(page: Page, document_name: str):
    return page.locator("li.list-group-item").filter(
        has=page.locator("strong", has_text=re.compile(rf"^{re.escape(document_name)}$"))
    )


def upload_document(page: Page, document_name: str, path: Path, t: Translate = english) -> None:
    """Upload one file on the Documents page and wait until the checklist, reloaded
    by the upload script, marks the document as uploaded."""
    field(page, t("Document")).select_option(label=document_name)
    field(page, t("File (PDF, JPEG or PNG)")).set_input_files(path)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/documents/")) as posted:
        button(page, t("Upload")).click()
    response = posted.value
    # The script posts in the background (XMLHttpRequest), asks for JSON and then
    # follows the redirect it is given (which is why the body is gone by now).
    assert response.request.resource_type == "xhr"
    assert response.request.headers.get("accept") == "application/json"
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    item = checklist_item(page, document_name)
    expect(item).to_contain_text(t("Uploaded"))
    expect(item.get_by_role("link", name=path.name)).to_be_visible()


def upload_rejected(page: Page, document_name: str, path: Path, t: Translate = english) -> str:
    """Upload a file the portal must refuse; returns the text shown to the parent."""
    field(page, t("Document")).select_option(label=document_name)
    field(page, t("File (PDF, JPEG or PNG)")).set_input_files(path)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/documents/")) as posted:
        button(page, t("Upload")).click()
    assert posted.value.status == 400
    status = page.locator("#upload-status")
    expect(status).not_to_be_empty()
    expect(page.locator("#upload-progress")).to_be_hidden()
    expect(button(page, t("Upload"))).to_be_enabled()
    return status.inner_text()


# --- Accessibility (axe-core) ---------------------------------------------------

# What fails a page: WCAG 2.1 AA problems that block or seriously hinder someone.
BLOCKING_IMPACTS = ("serious", "critical")
# Frames hold the documents under review (PDF viewer), not the portal's own markup;
# the <iframe> element itself is still checked (title) in the page around it.
AXE_OPTIONS = {"resultTypes": ["violations"], "iframes": False}


def axe_violations(page: Page, impacts=BLOCKING_IMPACTS) -> list[dict]:
    """axe-core's violations on the page as it is now, of the given impacts."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    return [v for v in results.response["violations"] if v["impact"] in impacts]


def describe_violations(where: str, violations: list[dict]) -> str:
    """Rule id, impact, help text and the selector of every node, to fix them by."""
    lines = []
    for violation in violations:
        lines.append(
            f"{where}: {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation['helpUrl'].split('?')[0]}]"
        )
        for node in violation["nodes"]:
            lines.append(f"    {_target(node)} :: {_summary(node)}")
    return "\n".join(lines)


def _target(node: dict) -> str:
    return " ".join(str(part) for part in node["target"])


def _summary(node: dict) -> str:
    return " ".join(node.get("failureSummary", "").split())[:300]


class AccessibilityAudit:
    """Runs axe-core on page after page of one browser tab and fails once, at the
    end, with every serious or critical violation of every page: a run shows all
    that needs fixing, not only the first page's. The report names each rule once,
    with its help text, and under it each element with the pages it is on."""

    def __init__(self, page: Page, language: str):
        self.page = page
        self.language = language
        self.checked: list[str] = []
        # rule id -> (heading, {(target, summary): [page names]})
        self.problems: dict[str, tuple[str, dict[tuple[str, str], list[str]]]] = {}

    def check(self, name: str) -> None:
        """Audit the page as it is now (after a form was posted, say)."""
        expect(self.page.locator("html")).to_have_attribute("lang", self.language)
        self.checked.append(name)
        for violation in axe_violations(self.page):
            heading = (
                f"{violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl'].split('?')[0]}]"
            )
            _, nodes = self.problems.setdefault(violation["id"], (heading, {}))
            for node in violation["nodes"]:
                nodes.setdefault((_target(node), _summary(node)), []).append(name)

    def visit(self, url: str, name: str | None = None) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status < 500, f"{url}: {response and response.status}"
        self.check(name or url)

    def report(self) -> str:
        lines = []
        for heading, nodes in self.problems.values():
            lines.append(f"[{self.language}] {heading}")
            for (target, summary), pages in nodes.items():
                lines.append(f"    {target}  on: {', '.join(pages)}\n        {summary}")
        return "\n".join(lines)

    def assert_clean(self) -> None:
        assert not self.problems, (
            f"axe-core found serious or critical violations ({len(self.checked)} pages "
            f"checked: {', '.join(self.checked)}):\n{self.report()}"
        )


# --- Keyboard -------------------------------------------------------------------

_DESCRIBE_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "<body>";
  const text = (e.getAttribute("aria-label") || e.innerText || e.value || e.name || "").trim();
  return `<${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}> ${text.slice(0, 40)}`;
}"""


def has_focus(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def focused_element(page: Page) -> str:
    """A short description of the focused element, for failure messages."""
    return page.evaluate(_DESCRIBE_FOCUS)


def tab_to(page: Page, locator, *, backwards: bool = False, limit: int = 100) -> int:
    """Press Tab (Shift+Tab with `backwards`) until `locator` has the focus, as a
    keyboard user does; returns the number of presses. Fails when the element is not
    reached within `limit` presses (not focusable, or not in the tab order) or when
    focus stops moving (a keyboard trap), listing where the focus went."""
    key = "Shift+Tab" if backwards else "Tab"
    path: list[str] = []
    for presses in range(limit + 1):
        if has_focus(locator):
            return presses
        page.keyboard.press(key)
        path.append(focused_element(page))
        if len(path) >= 4 and len(set(path[-4:])) == 1 and path[-1] != "<body>":
            raise AssertionError(f"keyboard trap: {key} keeps the focus on {path[-1]}")
    raise AssertionError(
        f"{locator} not reached with {limit} presses of {key}; the focus went to:\n  " + "\n  ".join(path)
    )


def type_text(page: Page, locator, text: str) -> None:
    """Tab to an (empty) text box and type into it."""
    tab_to(page, locator)
    page.keyboard.type(text)


def press_on(page: Page, locator, key: str = "Enter") -> None:
    """Tab to a link, button, checkbox... and press a key on it (Enter, Space)."""
    tab_to(page, locator)
    page.keyboard.press(key)


def choose_option(page: Page, select, label: str) -> None:
    """Tab to a <select> and pick the option reading `label` with the arrow keys."""
    tab_to(page, select)
    labels = select.evaluate("s => Array.from(s.options, o => o.label.trim())")
    assert label in labels, f"{label!r} is not among {labels}"
    move = labels.index(label) - select.evaluate("s => s.selectedIndex")
    for _ in range(abs(move)):
        page.keyboard.press("ArrowDown" if move > 0 else "ArrowUp")
    expect(select.locator("option:checked")).to_have_text(label)


def choose_radio(page: Page, group, label: str) -> None:
    """Tab into a group of radio buttons (`group` holds them) and move to the one
    labelled `label` with the arrow keys, which also checks it."""
    radios = group.get_by_role("radio")
    target = group.get_by_role("radio", name=label, exact=True)
    checked = group.locator("input[type=radio]:checked")
    tab_to(page, checked if checked.count() else radios.first)
    for _ in range(radios.count()):
        if has_focus(target):
            break
        page.keyboard.press("ArrowDown")
    expect(target).to_be_focused()
    if not target.is_checked():  # the first radio of a group with none checked yet
        page.keyboard.press("Space")
    expect(target).to_be_checked()


# --- Form errors ------------------------------------------------------------------


def assert_errors_tied_to_fields(page: Page) -> int:
    """Every field error on the page is named by its control's aria-describedby (or
    its group's, for radio buttons) and the control is aria-invalid; the error
    summary lists each of them with a link to a control that exists. Returns the
    number of field errors."""
    report = page.evaluate(
        """() => {
      const problems = [];
      const errors = Array.from(document.querySelectorAll(".invalid-feedback[id]"));
      for (const error of errors) {
        const described = Array.from(document.querySelectorAll("[aria-describedby]"))
          .filter(el => el.getAttribute("aria-describedby").split(/\\s+/).includes(error.id));
        if (!described.length) {
          problems.push(`${error.id}: no control is described by it`);
          continue;
        }
        for (const el of described) {
          const controls = el.matches("input, select, textarea") ? [el]
            : Array.from(el.querySelectorAll("input, select, textarea"));
          for (const control of controls) {
            if (control.getAttribute("aria-invalid") !== "true")
              problems.push(`${error.id}: ${control.name || control.id} is not aria-invalid`);
          }
          if (!controls.length) problems.push(`${error.id}: ${el.tagName} holds no control`);
        }
        if (!error.textContent.trim()) problems.push(`${error.id}: empty`);
      }
      for (const control of document.querySelectorAll("[aria-invalid=true]")) {
        const ids = (control.getAttribute("aria-describedby") || "").split(/\\s+/);
        const group = control.closest("fieldset[aria-describedby]");
        const all = ids.concat(group ? group.getAttribute("aria-describedby").split(/\\s+/) : []);
        const named = id => document.getElementById(id)?.classList.contains("invalid-feedback");
        if (!all.some(id => id && named(id)))
          problems.push(`${control.name || control.id} is aria-invalid but names no error`);
      }
      const links = Array.from(document.querySelectorAll("#form-errors a[href^='#']"));
      for (const a of links) {
        if (!document.getElementById(a.getAttribute("href").slice(1)))
          problems.push(`summary link ${a.getAttribute("href")} leads nowhere`);
      }
      return {problems, errors: errors.length, links: links.length};
    }"""
    )
    assert not report["problems"], "\n".join(report["problems"])
    assert report["errors"] > 0, "no field error on the page"
    assert report["links"] >= report["errors"], report
    return report["errors"]
