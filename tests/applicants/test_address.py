"""The home address on the family profile: entered once, kept in USPS form, a move
recorded as a new Residence from its date, and a post-office box refused."""

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from applicants.models import Family, Residence

from ..conftest import login

PO_BOX_EN = "A post office box cannot be a home address."
PO_BOX_ES = "Un apartado postal no puede ser una dirección de residencia."


def profile(street: str, *, unit: str = "", city: str = "Valle Verde", postal_code: str = "90999", **more) -> dict:
    return {
        "family-street": street,
        "family-unit": unit,
        "family-city": city,
        "family-state": "CA",
        "family-postal_code": postal_code,
        "family-preferred_language": "en",
        "me-first_name": "Alice",
        "me-last_name": "Nguyen",
        "me-phone": "",
        **{f"family-{name}": value for name, value in more.items()},
    }


def test_the_address_is_recorded_in_usps_form_with_what_was_typed(alice, alice_client):
    response = alice_client.post(reverse("family_profile"), profile("742 evergreen terrace", unit="apt 3"))
    assert response.status_code == 302
    residence = Residence.objects.get(family=alice.family)
    assert (residence.line1, residence.line2, residence.city, residence.state, residence.postal_code) == (
        "742 EVERGREEN TER",
        "APT 3",
        "VALLE VERDE",
        "CA",
        "90999",
    )
    assert residence.standardized
    assert residence.entered == "742 evergreen terrace, apt 3, Valle Verde, CA 90999"
    assert residence.since == timezone.localdate() and residence.recorded_by == alice
    family = Family.objects.get(pk=alice.family_id)
    assert family.address_lines() == ["742 EVERGREEN TER APT 3", "VALLE VERDE, CA 90999"]


def test_a_post_office_box_is_refused_in_english(alice, alice_client):
    response = alice_client.post(reverse("family_profile"), profile("PO Box 12"))
    assert response.status_code == 200
    assert PO_BOX_EN in response.text
    assert not Residence.objects.exists()
    assert Family.objects.get(pk=alice.family_id).street != "PO BOX 12"


def test_a_post_office_box_is_refused_in_the_familys_spanish(alice):
    Family.objects.filter(pk=alice.family_id).update(preferred_language="es")
    client = login(alice)  # the sign-in sets the family's language
    response = client.post(reverse("family_profile"), profile("Apartado postal 45"))
    assert response.status_code == 200
    assert PO_BOX_ES in response.text and PO_BOX_EN not in response.text
    assert not Residence.objects.exists()


def test_an_address_that_does_not_parse_is_saved_as_typed_for_the_office_to_check(alice, alice_client):
    response = alice_client.post(reverse("family_profile"), profile("Rancho El Sauce, camino viejo"), follow=True)
    residence = Residence.objects.get(family=alice.family)
    assert not residence.standardized
    assert residence.line1 == "RANCHO EL SAUCE, CAMINO VIEJO"
    assert "Your family profile is saved." in response.text
    assert "The district office will check it." in response.text
    assert "The district office will check it." in alice_client.get(reverse("family_profile")).text


def test_saving_the_same_address_again_records_nothing(alice, alice_client):
    alice_client.post(reverse("family_profile"), profile("742 Evergreen Terrace"))
    # As the page shows it now (USPS form), and as typed again.
    alice_client.post(reverse("family_profile"), profile("742 EVERGREEN TER", city="VALLE VERDE"))
    alice_client.post(reverse("family_profile"), profile("742 Evergreen Terrace", since=date(2020, 1, 1)))
    assert Residence.objects.filter(family=alice.family).count() == 1


def test_a_move_is_a_new_residence_from_its_date(alice, alice_client):
    alice_client.post(reverse("family_profile"), profile("742 Evergreen Terrace", since=date(2024, 5, 1)))
    moved_on = timezone.localdate() - timedelta(days=3)
    response = alice_client.post(reverse("family_profile"), profile("120 Oak Avenue", since=moved_on))
    assert response.status_code == 302
    first, second = Residence.objects.filter(family=alice.family).order_by("pk")
    assert (first.line1, first.since) == ("742 EVERGREEN TER", date(2024, 5, 1))
    assert (second.line1, second.since) == ("120 OAK AVE", moved_on)
    family = Family.objects.get(pk=alice.family_id)
    assert family.residences.first() == second and family.street == "120 OAK AVE"


def test_the_move_date_is_neither_in_the_future_nor_before_the_previous_address(alice, alice_client):
    alice_client.post(reverse("family_profile"), profile("742 Evergreen Terrace", since=date(2024, 5, 1)))
    tomorrow = timezone.localdate() + timedelta(days=1)
    future = alice_client.post(reverse("family_profile"), profile("120 Oak Avenue", since=tomorrow))
    assert "cannot be in the future" in future.text
    earlier = alice_client.post(reverse("family_profile"), profile("120 Oak Avenue", since=date(2024, 4, 30)))
    assert "Your previous address is recorded from May 1, 2024" in earlier.text
    assert Residence.objects.filter(family=alice.family).count() == 1


def test_a_recorded_address_cannot_be_emptied(alice, alice_client):
    alice_client.post(reverse("family_profile"), profile("742 Evergreen Terrace"))
    response = alice_client.post(reverse("family_profile"), profile("", city="", postal_code=""))
    assert response.status_code == 200 and "Enter your home address." in response.text
    assert Family.objects.get(pk=alice.family_id).street == "742 EVERGREEN TER"


def test_the_language_is_saved_without_an_address(alice, alice_client):
    Family.objects.filter(pk=alice.family_id).update(street="", city="", postal_code="")
    data = {**profile("", city="", postal_code=""), "family-preferred_language": "es"}
    assert alice_client.post(reverse("family_profile"), data).status_code == 302
    assert Family.objects.get(pk=alice.family_id).preferred_language == "es"
    assert not Residence.objects.exists()


def test_a_street_without_its_city_and_zip_code_is_incomplete(alice, alice_client):
    response = alice_client.post(reverse("family_profile"), profile("742 Evergreen Terrace", city="", postal_code=""))
    # Each of the two: in the summary at the top and beside its field.
    assert response.status_code == 200 and response.text.count("This field is required.") == 4
    assert not Residence.objects.exists()
