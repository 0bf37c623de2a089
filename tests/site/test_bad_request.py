"""A request Django refuses (400) gets a page that says why, never a bare one."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_a_pasted_form_over_the_upload_limit_says_so(client, django_user_model, settings):
    user = django_user_model.objects.create_user("alice", password="pw-long-enough-1")
    client.force_login(user)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(reverse("watchlists:import"), {"text": "NSE:INFY\n" * 500})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Too much to send at once" in page and "upload it as a file" in page
    assert "Nothing was saved" in page


@pytest.mark.django_db
def test_a_disallowed_host_gets_the_plain_400_page(client):
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Request refused" in response.content.decode()
