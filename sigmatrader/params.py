"""Reading what a request says, without ever failing on it.

Query strings and form values come from anywhere: `?account=` with 5,000
digits, `?date=garbage`, `?page=-1`, a superscript "²" that `str.isdigit()`
accepts and `int()` refuses. Every view reads ids and GET filters through
here (or through a `FilterForm`), so bad input means "no such thing" or
"filter not applied", never a 500.

- `object_id(value)`: a database id (1 .. 2**63-1, ASCII digits) or None.
- `IdConverter`: the same rule for ids in URL paths (`<id:order_id>`): a
  26-digit id does not match, so it is a 404 before any query runs.
- `text(value, max_length)`: free text (a search box) without control characters
  (PostgreSQL refuses a NUL in a string: a 500 on `?q=%00` otherwise), cut short.
- `FilterForm` / `filters(FormClass, data)`: a Django form whose valid fields
  apply and whose invalid fields are dropped (and shown on the form).
"""

from __future__ import annotations

from django import forms

MAX_ID = 2**63 - 1  # the largest primary key any of our databases can hold
MAX_ID_DIGITS = len(str(MAX_ID))


def object_id(value) -> int | None:
    """`value` as a database id, or None when it cannot be one."""
    text = str(value if value is not None else "").strip()
    if not text or len(text) > MAX_ID_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def text(value, max_length: int) -> str:
    """Free text from a request: control characters (NUL among them) dropped, cut short."""
    raw = str(value if value is not None else "")
    return "".join(ch for ch in raw if ch.isprintable() or ch == " ")[:max_length]


class IdConverter:
    """`<id:name>` in a URL: an id the database can hold, else the URL does not match."""

    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        number = object_id(value)
        if number is None:
            raise ValueError(value)  # the resolver tries the next pattern, then 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


class IdField(forms.CharField):
    """A form field for an object id: `object_id` rules, cleaned to an int (or None)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        number = object_id(text)
        if number is None:
            raise forms.ValidationError("Not a valid id.", code="invalid")
        return number


class FilterForm(forms.Form):
    """A GET filter form: every field optional; a bad value drops that filter only."""

    def applied(self) -> dict:
        if not self.is_valid() and not self.is_bound:
            return {}
        # cleaned_data holds the fields that validated, even when others did not.
        return {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}


def filters(form_class: type[FilterForm], data, **kwargs) -> tuple[FilterForm, dict]:
    """The bound filter form and the filters that apply (valid, non-empty)."""
    form = form_class(data, **kwargs)
    return form, form.applied()
