"""HTML to PDF with WeasyPrint, for letters. Imported only where PDFs are made (the
worker), so web processes do not load WeasyPrint.

Nothing is fetched over the network: a letter may load the portal's own static files
and data: URIs, and nothing else.
"""

from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

LETTER_CSS = "letters/letter.css"


class LocalOnlyFetcher(URLFetcher):
    def __init__(self):
        super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=True)

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if any(path.is_relative_to(root) for root in _static_roots()):
                return super().fetch(url, headers)
        raise ValueError(f"letters may not load {url}")


@cache
def _static_roots() -> tuple[Path, ...]:
    return tuple(Path(p).resolve() for p in [settings.BASE_DIR / "static", settings.STATIC_ROOT])


@cache
def _renderer() -> tuple[FontConfiguration, CSS, str]:
    """The font configuration and the letter stylesheet, built once per process:
    parsing them is a good part of the cost of a single letter."""
    fonts = FontConfiguration()
    css_path = finders.find(LETTER_CSS)
    stylesheet = CSS(filename=css_path, font_config=fonts, url_fetcher=LocalOnlyFetcher())
    return fonts, stylesheet, Path(css_path).parent.as_uri() + "/"


def html_to_pdf(html: str) -> bytes:
    """A tagged PDF whose title and language come from the HTML's <title> and lang."""
    fonts, stylesheet, base_url = _renderer()
    document = HTML(string=html, base_url=base_url, url_fetcher=LocalOnlyFetcher())
    return document.write_pdf(stylesheets=[stylesheet], font_config=fonts, pdf_tags=True)
