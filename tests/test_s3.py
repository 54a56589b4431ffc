"""Documents in S3, against a real S3 API server (moto's server mode on a loopback port):
the settings' S3 storage as docker-compose.yml configures it, the real upload service, and
the real download view answering with a short-lived signed URL after the permission check."""

import contextlib
import hashlib
import runpy
import urllib.request
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from moto.server import ThreadedMotoServer

from permits import services
from permits.models import DocumentType, Letter, PermitEvent

from .factories import pdf_upload

ROOT = Path(__file__).resolve().parent.parent
ACCESS_KEY, SECRET_KEY, REGION = "portal-test", "portal-test-secret", "us-east-1"


@contextlib.contextmanager
def s3_server():
    """An S3 API server in this process, on a free loopback port; yields its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._server.server_port}"
    finally:
        server.stop()


def s3_client(endpoint: str):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )


def new_bucket(endpoint: str) -> str:
    bucket = f"portal-files-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    return bucket


def settings_with_s3(monkeypatch, endpoint: str, bucket: str) -> dict:
    """config/settings.py evaluated with the variables docker-compose.yml passes."""
    for name, value in {
        "PORTAL_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_S3_REGION_NAME": REGION,
        "PORTAL_ACCEL_REDIRECT": "/protected-files/",
    }.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "settings.py"))


@pytest.fixture(scope="module")
def s3_endpoint():
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3(s3_endpoint, settings, monkeypatch):
    """The portal's default storage is a fresh bucket on the S3 server. Request it before
    fixtures that upload (draft_in) so that their files go there too."""
    bucket = new_bucket(s3_endpoint)
    production = settings_with_s3(monkeypatch, s3_endpoint, bucket)
    assert production["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = {**settings.STORAGES, "default": production["STORAGES"]["default"]}
    settings.STORAGE_BACKEND = production["STORAGE_BACKEND"]
    settings.PORTAL_ACCEL_REDIRECT = production["PORTAL_ACCEL_REDIRECT"]
    return {"endpoint": s3_endpoint, "bucket": bucket, "client": s3_client(s3_endpoint)}


def upload(permit, by, name: str, text: str):
    document_type = DocumentType.objects.order_by("pk").first()
    return services.add_document(
        permit_id=permit.pk, document_type=document_type, upload=pdf_upload(name, text=text), by=by
    )


def add_letter(permit) -> Letter:
    """An issued letter with its PDF in the default storage, stored as
    notifications.letters.render_letter stores it."""
    pdf = b"%PDF-1.4\n% an acceptance letter\n%%EOF\n"
    letter = Letter(
        permit=permit,
        event=PermitEvent.objects.filter(permit=permit).order_by("pk").first(),
        kind=Letter.Kind.ACCEPTANCE,
        language="en",
        letter_date=date.today(),
        sha256=hashlib.sha256(pdf).hexdigest(),
        rendered_at=timezone.now(),
    )
    letter.pdf.save(f"letters/{permit.pk}/{uuid.uuid4().hex}.pdf", ContentFile(pdf), save=False)
    letter.save()
    return letter


def fetch(url: str):
    """GET a signed URL: (body, headers, looked up without regard to case)."""
    assert urlsplit(url).hostname == "127.0.0.1"  # loopback only
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers


def test_upload_lands_in_the_private_bucket(s3, draft_in, alice):
    document = upload(draft_in, alice, "report.pdf", "Sofia's report card")
    head = s3["client"].head_object(Bucket=s3["bucket"], Key=document.file.name)
    assert head["ContentLength"] == document.size
    assert document.file.name.startswith(f"documents/{draft_in.pk}/")
    grants = s3["client"].get_object_acl(Bucket=s3["bucket"], Key=document.file.name)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all("AllUsers" not in str(grant["Grantee"]) for grant in grants)


def test_download_redirects_to_a_short_lived_signed_url(s3, draft_in, alice, alice_client):
    document = upload(draft_in, alice, "report.pdf", "Sofia's report card")
    response = alice_client.get(f"/family/documents/{document.pk}/")

    assert response.status_code == 302
    assert "X-Accel-Redirect" not in response  # S3 wins over nginx's internal location
    assert response["Cache-Control"] == "private, no-store"
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}" == s3["endpoint"]
    assert url.path == f"/{s3['bucket']}/{document.file.name}"
    query = parse_qs(url.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Signature"][0]
    assert 0 < int(query["X-Amz-Expires"][0]) <= 60
    assert query["response-content-disposition"][0].startswith("attachment;")

    body, headers = fetch(response["Location"])
    assert hashlib.sha256(body).hexdigest() == document.sha256
    assert body.startswith(b"%PDF")
    assert "report.pdf" in headers["Content-Disposition"]


def test_another_family_gets_404_and_no_url(s3, draft_in, alice, bob_client):
    document = upload(draft_in, alice, "report.pdf", "Sofia's report card")
    response = bob_client.get(f"/family/documents/{document.pk}/")
    assert response.status_code == 404
    assert "Location" not in response
    assert b"X-Amz" not in response.content
    assert s3["bucket"].encode() not in response.content
    assert document.file.name.encode() not in response.content


def test_letters_are_served_the_same_way(s3, draft_in, alice_client, bob_client):
    letter = add_letter(draft_in)
    assert s3["client"].head_object(Bucket=s3["bucket"], Key=letter.pdf.name)
    response = alice_client.get(f"/family/letters/{letter.pk}/")
    assert response.status_code == 302
    assert int(parse_qs(urlsplit(response["Location"]).query)["X-Amz-Expires"][0]) <= 60
    body, headers = fetch(response["Location"])
    assert hashlib.sha256(body).hexdigest() == letter.sha256
    assert headers["Content-Type"] == "application/pdf"

    response = bob_client.get(f"/family/letters/{letter.pk}/")
    assert response.status_code == 404 and "Location" not in response


def test_same_named_files_never_overwrite_each_other(s3, draft_in, alice, alice_client):
    first = upload(draft_in, alice, "report.pdf", "First report card")
    second = upload(draft_in, alice, "report.pdf", "Second report card")
    assert first.original_name == second.original_name == "report.pdf"
    assert first.file.name != second.file.name

    keys = {item["Key"] for item in s3["client"].list_objects_v2(Bucket=s3["bucket"])["Contents"]}
    assert {first.file.name, second.file.name} <= keys
    for document in (first, second):
        response = alice_client.get(f"/family/documents/{document.pk}/")
        body, _ = fetch(response["Location"])
        assert hashlib.sha256(body).hexdigest() == document.sha256
    assert first.sha256 != second.sha256

    # The storage itself never overwrites either (file_overwrite=False), whatever the key.
    one = default_storage.save("letters/0/report.pdf", ContentFile(b"one"))
    two = default_storage.save("letters/0/report.pdf", ContentFile(b"two"))
    assert one == "letters/0/report.pdf" and two != one
    assert [default_storage.open(name).read() for name in (one, two)] == [b"one", b"two"]
