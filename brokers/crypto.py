"""Encrypted storage for broker credentials and sessions.

`EncryptedJSONBlobField` keeps a whole JSON document as one Fernet token (key
names hidden, types kept). Keys come from django-fernet-encrypted-fields'
derivation: SECRET_KEY and SECRET_KEY_FALLBACKS, each with every SALT_KEY; the
first pair encrypts, all of them decrypt. Unlike that library's own fields, a
value no key can decrypt raises `UndecryptableSecret` instead of handing back
the ciphertext as if it were the value.

Rotation: put the new SECRET_KEY in place and the old one in
SECRET_KEY_FALLBACKS (or prepend a new salt to FIELD_ENCRYPTION_SALTS), then
run `manage.py reencrypt_secrets`.
"""

from __future__ import annotations

import json

from cryptography.fernet import InvalidToken
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from encrypted_fields.fields import EncryptedFieldMixin


class UndecryptableSecret(Exception):
    """Stored ciphertext that none of the configured keys opens."""


class EncryptedJSONBlobField(EncryptedFieldMixin, models.TextField):
    def get_prep_value(self, value):
        if value is None:
            return None
        document = json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)
        return self.f.encrypt(document.encode("utf-8")).decode("ascii")

    def from_db_value(self, value, expression, connection):
        return self._decrypt(value)

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
