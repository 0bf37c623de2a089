from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import UsernameField

from .models import SystemEvent
from .params import FilterForm


class FirstAccountForm(forms.Form):
    username = UsernameField(max_length=150)
    email = forms.EmailField(required=False)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            user = get_user_model()(username=cleaned.get("username"), email=cleaned.get("email"))
            try:
                password_validation.validate_password(p1, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class EventFilterForm(FilterForm):
    level = forms.ChoiceField(
        choices=[("", "All levels"), *SystemEvent.Level.choices], required=False
    )
    category = forms.ChoiceField(
        choices=[("", "All categories"), *SystemEvent.Category.choices], required=False
    )
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Search messages", "type": "search"}),
    )
