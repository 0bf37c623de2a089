"""The webhook card's secret form: the same limits the webhook applies to `secret`."""

from django import forms


class WebhookSecretForm(forms.Form):
    LIMIT = 200  # orders.webhook.parse reads at most this many characters of `secret`

    secret = forms.CharField(
        required=False,
        strip=True,
        max_length=LIMIT,
        label="Optional secret",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in secret):
            raise forms.ValidationError("The secret cannot contain control characters.")
        return secret
