"""First run: create the first (superuser) account while no user exists."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from .events import record_event
from .models import SiteSetup, SystemEvent


class AlreadySetUp(Exception):
    """Someone already created the first account."""


def needs_first_run() -> bool:
    return not get_user_model().objects.exists()


def create_first_account(*, username: str, email: str, password: str):
    User = get_user_model()
    try:
        with transaction.atomic():
            if User.objects.exists():
                raise AlreadySetUp
            # The singleton row makes a concurrent second submission fail here.
            SiteSetup.objects.create(id=SiteSetup.SINGLETON_ID)
            user = User.objects.create_superuser(username=username, email=email, password=password)
    except IntegrityError as exc:
        raise AlreadySetUp from exc
    record_event(
        category=SystemEvent.Category.SECURITY,
        message=f"First account '{username}' created by the first-run form",
        user=user,
    )
    return user
