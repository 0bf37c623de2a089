from django.contrib.auth import get_user_model
from django.urls import reverse

from sigmatrader import setup
from sigmatrader.models import SiteSetup, SystemEvent

FORM = {
    "username": "owner",
    "email": "owner@example.com",
    "password1": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
}


def test_fresh_install_offers_the_first_account_form(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert b'id="first-run-form"' in response.content


def test_login_page_sends_to_first_run_while_no_user_exists(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 302 and response["Location"] == "/"


def test_first_run_creates_a_superuser_signs_in_and_records_it(client, db):
    response = client.post("/", FORM)
    assert response.status_code == 302 and response["Location"] == "/"
    owner = get_user_model().objects.get()
    assert owner.username == "owner" and owner.is_superuser and owner.is_staff
    assert SiteSetup.objects.filter(pk=SiteSetup.SINGLETON_ID).exists()
    assert SystemEvent.objects.filter(category="security", user=owner).exists()
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert b"first-run-form" not in dashboard.content
    assert b"Dashboard" in dashboard.content


def test_form_is_gone_once_a_user_exists(client, user):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    # Posting the form again creates nobody.
    client.post("/", {**FORM, "username": "intruder"})
    assert not get_user_model().objects.filter(username="intruder").exists()


def test_form_is_gone_after_createsuperuser(client, db):
    from django.core.management import call_command

    call_command("createsuperuser", "--noinput", username="ops", email="ops@example.com")
    assert client.get("/").status_code == 302


def test_mismatched_and_weak_passwords_are_refused_with_a_message(client, db):
    response = client.post("/", {**FORM, "password2": "something-else-entirely"})
    assert response.status_code == 200
    assert b"The two passwords differ." in response.content
    response = client.post("/", {**FORM, "password1": "12345678", "password2": "12345678"})
    assert b"This password is too common." in response.content
    assert not get_user_model().objects.exists()


def test_second_first_run_is_refused_by_the_service(db):
    setup.create_first_account(username="one", email="", password="x-very-long-pass")
    try:
        setup.create_first_account(username="two", email="", password="x-very-long-pass")
    except setup.AlreadySetUp:
        pass
    else:
        raise AssertionError("a second first-run account was created")
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["one"]


def test_setup_row_blocks_a_racing_submission(db):
    """The race: the other request already wrote the setup row but we saw no user."""
    SiteSetup.objects.create(id=SiteSetup.SINGLETON_ID)
    try:
        setup.create_first_account(username="late", email="", password="x-very-long-pass")
    except setup.AlreadySetUp:
        pass
    else:
        raise AssertionError("created a superuser despite the setup row")
    assert not get_user_model().objects.exists()
