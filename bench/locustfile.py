"""The users of the load test (bench/load.py), for `locust --headless`: parents and staff
who sign in through the real forms, then browse and act with a think time between
requests. HTTP only: no Django here. Run only by bench/load.py, which writes the plan
(BENCH_LOAD_PLAN: accounts, packets, timing) and reads every request back from
BENCH_LOAD_OUT.

Parents: their dashboard (/family/), the page of a submitted packet, and an upload of a
small PDF to their draft packet (the documents form, then the multipart POST).
Staff: the queue (/staff/, and now and then its next page), a review page, and an
approval (POST /staff/permits/<id>/approve/ with the requested school), after which
they see the review page again. Every request goes to 127.0.0.1 only, as a TLS proxy
would forward it (X-Forwarded-Proto: https, and the browser's Origin on a POST).

The test runs until every user has signed in and then `window_s` seconds more
(LoadTestShape below), never longer than `max_seconds`.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, LoadTestShape, between, events, task

PLAN = json.loads(open(os.environ["BENCH_LOAD_PLAN"]).read())
OUT = os.environ["BENCH_LOAD_OUT"]
HOST = PLAN["host"]
if urlsplit(HOST).hostname != "127.0.0.1":
    raise SystemExit("the load test only targets 127.0.0.1")
ORIGIN = "https://" + urlsplit(HOST).netloc  # what the browser sees behind the TLS proxy
FORWARDED = {"X-Forwarded-Proto": "https"}
PDF = open(PLAN["upload_file"], "rb").read()
MESSAGE = re.compile(r'<div class="alert alert-(success|danger)"[^>]*>([^<]*)</div>')
NEXT_PAGE = re.compile(r'href="\?(?:[^"]*&amp;)?after=([0-9-]+_[0-9]+)"')

STATE = {"signed_in": 0, "sign_in_failed": 0, "all_in_at": None, "started_at": time.time(),
         "approval_messages": {}}  # message shown after an approval (numbers as N) -> count
SAMPLES: list[list] = []  # [start (epoch s), name, ms, ok, status, error]
_parents = itertools.count()
_staff = itertools.count()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, start_time=None,
            response=None, **_kwargs):
    status = getattr(response, "status_code", 0) or 0
    error = "" if exception is None else f"{type(exception).__name__}: {exception}"[:200]
    SAMPLES.append([start_time or time.time(), name, response_time, exception is None, status, error])


def _dump(**_kwargs):
    with open(OUT, "w") as f:
        json.dump({"state": STATE, "samples": SAMPLES}, f)


events.test_stop.add_listener(_dump)
events.quitting.add_listener(_dump)


def _signed_in(ok: bool) -> None:
    STATE["signed_in"] += 1
    if not ok:
        STATE["sign_in_failed"] += 1
    if STATE["signed_in"] >= PLAN["users"] and STATE["all_in_at"] is None:
        STATE["all_in_at"] = time.time()


class BehindTlsProxy(DefaultCookiePolicy):
    """The portal's cookies are Secure (production settings). The browser holds them over
    HTTPS; here the client stands where the TLS proxy would, on plain HTTP, so it sends
    them over HTTP too."""

    def return_ok_secure(self, cookie, request):
        return True


class PortalUser(FastHttpUser):
    abstract = True
    host = HOST
    wait_time = between(*PLAN["think_s"])
    connection_timeout = 10.0
    network_timeout = 30.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.client.cookiejar.set_policy(BehindTlsProxy())

    def csrf(self) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""

    def page(self, url: str, name: str) -> str:
        """GET a page that must answer 200 (not a redirect: that would be the login)."""
        with self.client.get(url, name=name, headers=FORWARDED, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")
                return ""
            return response.text or ""

    def post(self, url: str, name: str, fields: dict, *, expect: str, files: dict | None = None) -> bool:
        """POST a form as the browser would; it must answer a redirect to `expect`."""
        fields = {"csrfmiddlewaretoken": self.csrf(), **fields}
        headers = {**FORWARDED, "Origin": ORIGIN, "Referer": ORIGIN + url}
        if files:
            boundary = uuid.uuid4().hex
            body = b"".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                for k, v in fields.items()
            )
            for key, (filename, content, content_type) in files.items():
                body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; '
                         f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n').encode()
                body += content + b"\r\n"
            body += f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        with self.client.post(url, name=name, data=body, headers=headers, allow_redirects=False,
                              catch_response=True) as response:
            location = response.headers.get("Location", "") or ""
            if response.status_code != 302 or not urlsplit(location).path.startswith(expect):
                response.failure(f"{response.status_code} to {location!r}, expected {expect}")
                return False
            return True

    def sign_in(self, email: str) -> bool:
        self.page("/accounts/login/", "sign-in: form")
        return self.post("/accounts/login/", "sign-in: password (POST)",
                         {"username": email, "password": PLAN["password"]}, expect="/")


class Parent(PortalUser):
    fixed_count = PLAN["parents"]

    def on_start(self):
        self.me = PLAN["parent_accounts"][next(_parents) % len(PLAN["parent_accounts"])]
        _signed_in(self.sign_in(self.me["email"]))

    @task(3)
    def dashboard(self):
        self.page("/family/", "parent: dashboard")

    @task(3)
    def packet(self):
        self.page(f"/family/permits/{self.me['packet']}/", "parent: packet page")

    @task(1)
    def upload(self):
        url = f"/family/permits/{self.me['draft']}/documents/"
        self.page(url, "parent: documents form")
        self.post(url, "parent: upload (POST)", {"document_type": self.me["document_type"]},
                  expect=url, files={"file": ("scan.pdf", PDF, "application/pdf")})


class Staff(PortalUser):
    fixed_count = PLAN["staff"]

    def on_start(self):
        self.me = PLAN["staff_accounts"][next(_staff) % len(PLAN["staff_accounts"])]
        self.to_approve = list(self.me["approve"][PLAN["step"]])  # each run its own packets
        ok = self.sign_in(self.me["email"])
        if ok:
            self.page("/accounts/2fa/verify/", "sign-in: second factor form")
            ok = self.post("/accounts/2fa/verify/", "sign-in: second factor (POST)",
                           {"code": self.me["codes"][PLAN["step"]]}, expect="/staff/")
        _signed_in(ok)

    @task(3)
    def queue(self):
        text = self.page("/staff/", "staff: queue")
        match = NEXT_PAGE.search(text)
        if match and random.random() < 0.3:
            self.page(f"/staff/?after={match.group(1)}", "staff: queue, next page")

    @task(3)
    def review(self):
        self.page(f"/staff/permits/{random.choice(PLAN['review_packets'])}/", "staff: review page")

    @task(1)
    def approve(self):
        if not self.to_approve:
            return self.review()
        pk = self.to_approve.pop(0)
        review = f"/staff/permits/{pk}/"
        self.page(review, "staff: review page")
        if self.post(f"{review}approve/", "staff: approve (POST)", {"approve-school": "", "approve-note": ""},
                     expect=review):
            match = MESSAGE.search(self.page(review, "staff: review page"))
            text = match.group(2).strip() if match else "(no message)"
            text = re.sub(r"\bP-[0-9A-F]{8}\b", "P-…", text)  # the packet's reference
            text = re.sub(r"^[A-Z][a-z]+ (Elementary|Middle|High) ", "<school> ", text)
            key = f"{match.group(1) if match else 'none'}: {text}"
            messages = STATE["approval_messages"]
            messages[key] = messages.get(key, 0) + 1


class UntilAllSignedInThenWindow(LoadTestShape):
    """All users at `spawn_rate` per second; stop `window_s` after the last sign-in."""

    def tick(self):
        if self.get_run_time() > PLAN["max_seconds"]:
            return None
        all_in = STATE["all_in_at"]
        if all_in is not None and time.time() - all_in >= PLAN["window_s"]:
            return None
        return PLAN["users"], PLAN["spawn_rate"]
