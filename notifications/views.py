import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from permits.access import family_of
from permits.downloads import file_response
from permits.models import Permit
from reviews.access import get_permit_for_staff, record_access, require
from reviews.models import RecordAccess

from . import letters as letter_service
from .forms import LetterFilterForm
from .models import Letter, LetterBatch

log = logging.getLogger(__name__)
VERIFY_LIMIT_PER_MINUTE = 20


def _pdf_response(file, filename: str) -> HttpResponse:
    return file_response(file, filename=filename, content_type="application/pdf")


@require_GET
def family_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """The family's copy: the stored bytes, the same on every download."""
    try:
        letter = Letter.objects.select_related("permit").get(
            pk=pk, permit__family=family_of(request.user), rendered_at__isnull=False
        )
    except Letter.DoesNotExist:
        raise Http404 from None
    return _pdf_response(letter.pdf, letter.filename)


@require_GET
def staff_letter(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        letter = Letter.objects.get(pk=pk, rendered_at__isnull=False)
    except Letter.DoesNotExist:
        raise Http404 from None
    get_permit_for_staff(request.user, letter.permit_id)  # 404 outside the user's scope
    record_access(request, letters=[letter], purpose=RecordAccess.Purpose.PERMIT_REVIEW)
    return _pdf_response(letter.pdf, letter.filename)


@require_GET
def letter_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "letters")
    form = LetterFilterForm(request.GET or None)
    letters = form.letters()
    return render(
        request,
        "notifications/letter_list.html",
        {
            "form": form,
            "letters": letters[:200],
            "count": letters.count(),
            "batches": LetterBatch.objects.filter(requested_by=request.user).order_by("-created_at")[:10],
        },
    )


@require_POST
def batch_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "letters")
    form = LetterFilterForm(request.POST)
    letters = list(form.letters()[:2000])
    if not letters:
        messages.error(request, _("No letters match these filters."))
        return redirect("letter_list")
    batch = letter_service.start_batch(letters=letters, by=request.user, description=form.describe())
    return redirect("letter_batch", pk=batch.pk)


def _batch_for(user, pk: int) -> LetterBatch:
    require(user, "letters")
    try:
        return LetterBatch.objects.get(pk=pk, requested_by=user)
    except LetterBatch.DoesNotExist:
        raise Http404 from None


@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "notifications/letterbatch_detail.html", {"batch": _batch_for(request.user, pk)})


@require_GET
def batch_status(request: HttpRequest, pk: int) -> JsonResponse:
    batch = _batch_for(request.user, pk)
    return JsonResponse({"status": batch.status, "done": batch.done, "total": batch.total, "percent": batch.percent})


@require_GET
def batch_download(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for(request.user, pk)
    if batch.status != LetterBatch.Status.DONE:
        raise Http404
    record_access(request, letters=batch.letters.all(), purpose=RecordAccess.Purpose.LETTER_PRINT)
    return _pdf_response(batch.pdf, f"letters-batch-{batch.pk}.pdf")


@login_not_required
@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public: another district checks a release or acceptance. Says valid, revoked or
    unknown, and no more than the receiving district needs."""
    address = request.META.get("REMOTE_ADDR", "")
    key = f"verify-rate:{address}"
    try:
        cache.add(key, 0, timeout=60)
        attempts = cache.incr(key)
    except Exception:
        log.warning("verification refused: rate limiter unavailable")
        return render(request, "notifications/verify.html", {"state": "unavailable"}, status=503)
    if attempts > VERIFY_LIMIT_PER_MINUTE:
        return render(request, "notifications/verify.html", {"state": "limited"}, status=429)
    letter = (
        Letter.objects.filter(verification_code=code.strip().upper(), kind__in=Letter.VERIFIABLE)
        .select_related("permit__student", "permit__school_year")
        .first()
    )
    if letter is None:
        state = "unknown"
    elif letter.permit.status == Permit.Status.APPROVED:
        state = "valid"
    elif letter.permit.status == Permit.Status.REVOKED:
        state = "revoked"
    else:
        state = "not_valid"
    initials = ""
    if letter is not None:
        student = letter.permit.student
        initials = f"{student.legal_first_name[:1]}. {student.legal_last_name[:1]}."
    return render(
        request,
        "notifications/verify.html",
        {"state": state, "letter": letter, "initials": initials},
        status=404 if state == "unknown" else 200,
    )
