from django.core.management import call_command

from applicants.models import User
from outbox.models import OutboxEmail
from permits.models import Permit
from reviews.models import StaffRole


def test_seed_demo_loads_every_role_and_packets_in_several_states(db, capsys, handle_events):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "demo-portal-2026" in out and "technician@valleverde.example" in out
    statuses = set(Permit.objects.values_list("status", flat=True))
    assert {"draft", "submitted", "approved", "denied", "info_requested", "withdrawn"} <= statuses
    assert set(StaffRole.objects.values_list("role", flat=True)) == {
        "technician",
        "site_admin",
        "director",
        "district_admin",
    }
    assert User.objects.get(email="maria.garcia@example.com").check_password("demo-portal-2026")
    handle_events()  # what the worker of `make run` does with the demo's events
    assert OutboxEmail.objects.filter(template="permit_received").exists()


def test_seed_demo_if_empty_does_not_load_twice(db):
    call_command("seed_demo")
    count = Permit.objects.count()
    call_command("seed_demo", "--if-empty")
    assert Permit.objects.count() == count
