from .models import District


def district(request) -> dict:
    """The district's name and contact for every page's header and footer."""
    return {"district": District.objects.filter(pk=1).first()}
