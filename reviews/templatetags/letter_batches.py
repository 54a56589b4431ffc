from django import template

from reviews import batches

register = template.Library()


@register.filter
def batch_description(description: str) -> str:
    """A batch print's description in the page's language (reviews.batches.describe)."""
    return batches.describe(description)
