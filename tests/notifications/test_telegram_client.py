"""The client against the Bot API emulator: what Telegram refuses is refused here too
(so the escaping and length tests can fail)."""

from __future__ import annotations

import pytest

from notifications import telegram as client

from .conftest import TOKEN


@pytest.mark.parametrize(
    "text",
    ["<script>x</script>", "M&M", "<b>unclosed", "x" * 4097],
)
def test_unescaped_or_too_long_text_is_refused(telegram, text, monkeypatch):
    monkeypatch.setattr(client, "LIMIT", 10_000)  # let the long text reach the API
    with pytest.raises(client.Refused, match="Bad Request"):
        client.send_message(token=TOKEN, chat_id="1", text=text)


def test_a_wrong_token_is_refused_without_retrying(telegram):
    telegram.state.tokens = {TOKEN}
    with pytest.raises(client.Refused) as caught:
        client.send_message(token="1:wrong", chat_id="1", text="hi")
    assert not caught.value.retryable and "1:wrong" not in caught.value.message


def test_429_carries_retry_after(telegram):
    telegram.state.fail("sendMessage", "429", 12)
    with pytest.raises(client.RateLimited) as caught:
        client.send_message(token=TOKEN, chat_id="1", text="hi")
    assert caught.value.retry_after == 12 and caught.value.retryable
