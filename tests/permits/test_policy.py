"""The public policy page states what EC 46600.2(a) asks for, with the appeal rights
each kind of request really has."""

import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.html import strip_tags

from permits import clock


@pytest.fixture
def policy(district):
    district.board_policy = "BP/AR 5117"
    district.offers_internal_appeal = True
    district.internal_appeal_days = 12
    district.internal_appeal_decision_days = 9
    district.info_response_days = 7
    district.appeal_steps_en = "Write to the Director of Student Services."
    district.revocation_conditions_en = "Chronic truancy after a written warning."
    district.save()
    return district


def page(**headers) -> str:
    response = Client().get("/policy/", **headers)
    assert response.status_code == 200
    return " ".join(strip_tags(response.text).split())


def item(text: str, title: str) -> str:
    """The sentence(s) under one kind of request in the appeal rights."""
    return re.search(re.escape(title) + r"(.*?)(?=Inter-district requests not|Intra-district|No release|$)", text)[1]


def test_it_states_every_element_the_statute_asks_for(policy, school_year):
    law = clock.rules_on(clock.today())
    text = page()
    assert "board policy BP/AR 5117" in text
    assert f"received {law.current_year_window_days} days or fewer before the first day of instruction" in text
    assert f"within {law.current_year_decision_days} calendar days of receipt" in text
    assert f"at the latest {law.future_year_days_after_start} calendar days after the first day of instruction" in text
    assert "7 days to answer" in text
    assert "considered abandoned" in text and "An abandoned request is not a denial and cannot be appealed." in text
    assert "review the denial within 12 calendar days of the denial" in text
    assert "decides within 9 calendar days of the appeal" in text
    assert "Write to the Director of Student Services." in text
    assert f"within {law.county_appeal_days} calendar days of the final denial (Education Code 46601)" in text
    assert "Sierra Azul County Office of Education" in text
    assert "counts as a denial from the next day (Education Code 46600.1(d)(1))" in text
    assert "is not an appealable denial (Education Code 46600.1(d)(2))" in text
    assert "Chronic truancy after a written warning." in text
    assert "never revoked for a pupil entering grade 11 or 12" in text
    assert "A revocation cannot be appealed to the county board of education." in text
    assert school_year.name in text  # when to apply
    assert "Employer letter with the physical work address" in text  # documents per reason


def test_an_inter_district_denial_goes_to_the_county_after_the_internal_appeal(policy):
    inter = item(page(), "Inter-district requests (incoming and outgoing)")
    assert "may be appealed to the county board of education" in inter
    assert "after the district's internal appeal" in inter
    assert "when the district's appeal panel upholds it" in inter
    assert "when the time for the internal appeal ends" in inter


def test_an_intra_district_denial_is_never_promised_a_county_appeal(policy):
    intra = item(page(), "Intra-district requests (another school of the district)")
    assert "cannot be appealed to the county board of education" in intra
    assert "may be appealed" not in intra and "may appeal" not in intra
    assert "internal appeal" in intra


def test_without_an_internal_appeal_none_is_offered(policy):
    policy.offers_internal_appeal = False
    policy.save()
    text = page()
    assert "The district does not offer an internal appeal" in text
    assert "review the denial within" not in text
    assert "Write to the Director of Student Services." not in text
    assert "after the district's internal appeal" not in item(text, "Inter-district requests (incoming and outgoing)")
    intra = item(text, "Intra-district requests (another school of the district)")
    assert "the district does not offer an appeal of it: the decision is final" in intra


def test_the_page_is_in_spanish(policy):
    policy.revocation_conditions_es = "Ausentismo crónico después de un aviso por escrito."
    policy.save()
    # The locale middleware leaves the thread in Spanish; the tests after this one
    # must not inherit it.
    with translation.override("en"):
        text = page(HTTP_ACCEPT_LANGUAGE="es")
        client = Client()
        client.cookies["django_language"] = "es"
        by_cookie = client.get("/policy/").text
    assert "Ausentismo crónico después de un aviso por escrito." in text
    assert "política de la junta BP/AR 5117" in text
    assert "no se puede apelar ante la junta de educación del condado" in text
    assert "no es una denegación apelable (Código de Educación 46600.1(d)(2))" in text
    assert "11.º o 12.º grado" in text
    assert "Derechos de apelación según el tipo de solicitud" in by_cookie
