from .models import District


def district(request) -> dict:
    """The district's name and contact for every page's header and footer (none yet on
    a fresh installation, before the administrator enters it)."""
    try:
        return {"district": District.current()}
    except District.DoesNotExist:
        return {"district": None}
