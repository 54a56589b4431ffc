from datetime import date

from django import template

register = template.Library()


@register.filter
def days_until(due: date | None, today: date) -> int | None:
    return (due - today).days if due else None


@register.filter
def urgency(days: int | None) -> str:
    """The colour of the days left: overdue, due within 5 days, within 10."""
    if days is None:
        return "secondary"
    if days < 0:
        return "danger"
    if days <= 5:
        return "warning"
    if days <= 10:
        return "info"
    return "light"


@register.filter
def absolute(value: int | None) -> int | None:
    return abs(value) if value is not None else None


@register.filter
def may(scope, action: str) -> bool:
    return scope.may(action)
