"""Encrypted storage for broker credentials and sessions.

`EncryptedJSONBlobField` keeps a whole JSON document as one Fernet token (key
names hidden, types kept). Keys come from django-fernet-encrypted-fields'
derivation: SECRET_KEY and SECRET_KEY_FALLBACKS, each with every SALT_KEY; the
first pair encrypts, all of them decrypt. Unlike that library's own fields, a
value no key can decrypt is never handed back as if the ciphertext were the
value: it loads as an `UnreadableSecret`, whose every use raises
`UndecryptableSecret` (one such row must not stop the jobs, pages and admin
lists that load it beside others).

Rotation: put the new SECRET_KEY in place and the old one in
SECRET_KEY_FALLBACKS (or prepend a new salt to FIELD_ENCRYPTION_SALTS), then
run `manage.py reencrypt_secrets`.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import InvalidToken
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from encrypted_fields.fields import EncryptedFieldMixin


class UndecryptableSecret(Exception):
    """Stored ciphertext that none of the configured keys opens."""


class UnreadableSecret:
    """What a column no key opens loads as.

    Loading the row never fails (so lists, the admin, delete and every other
    account in a loop keep working); any use of the secret raises
    UndecryptableSecret; saving the row writes the ciphertext back unchanged.
    """

    __slots__ = ("ciphertext", "where")

    def __init__(self, ciphertext: str, where: str):
        self.ciphertext, self.where = ciphertext, where

    def _refuse(self, *args, **kwargs):
        raise UndecryptableSecret(
            f"{self.where} cannot be decrypted with the configured keys (was SECRET_KEY "
            "changed without adding the old one to SECRET_KEY_FALLBACKS?)"
        )

    __bool__ = __len__ = __iter__ = __getitem__ = __contains__ = _refuse
    get = items = keys = values = copy = _refuse
    __hash__ = None  # type: ignore[assignment]  # unhashable, like the dict it stands for

    def __eq__(self, other):
        return isinstance(other, UnreadableSecret) and other.ciphertext == self.ciphertext

    def __repr__(self):
        return f"<unreadable {self.where}>"


class EncryptedJSONBlobField(EncryptedFieldMixin, models.TextField):
    # For django-stubs: the attribute holds a JSON document (or an UnreadableSecret),
    # not the text column it is stored in.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, UnreadableSecret):
            return value.ciphertext
        document = json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)
        return self.f.encrypt(document.encode("utf-8")).decode("ascii")

    def from_db_value(self, value, expression, connection):
        try:
            return self._decrypt(value)
        except UndecryptableSecret:
            return UnreadableSecret(str(value), f"{self.model.__name__}.{self.name}")

    def to_python(self, value):
        if value is None or isinstance(value, dict | list):
            return value
        return self._decrypt(value)

    def clean(self, value, model_instance):
        # The library's clean() flips a flag on the shared field object; ours
        # needs none: to_python only decrypts strings.
        return models.Field.clean(self, value, model_instance)

    def value_to_string(self, obj):
        # dumpdata and serializers get the ciphertext, never the plaintext.
        return self.get_prep_value(self.value_from_object(obj))

    def _decrypt(self, value):
        if value is None:
            return None
        try:
            plaintext = self.f.decrypt(str(value).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise UndecryptableSecret(
                f"{self.model.__name__}.{self.name} cannot be decrypted with the configured "
                "keys (was SECRET_KEY changed without adding the old one to "
                "SECRET_KEY_FALLBACKS?)"
            ) from exc
        return json.loads(plaintext)

    def reset_keys(self) -> None:
        """Re-read the keys from settings (after a rotation in the same process)."""
        for attribute in ("keys", "f"):
            self.__dict__.pop(attribute, None)


def encrypted_fields(model) -> list[EncryptedJSONBlobField]:
    return [f for f in model._meta.get_fields() if isinstance(f, EncryptedJSONBlobField)]
