from django import forms

from orders.forms import OrderForm


class TradeForm(OrderForm):
    """The order form as opened from a holding or a position: destination explicit,
    and the trader chooses between the queue and sending at once."""

    QUEUE, SEND = "queue", "send"
    then = forms.ChoiceField(
        choices=[(QUEUE, "Add to the queue for review"), (SEND, "Send to the broker now")],
        initial=QUEUE,
        widget=forms.RadioSelect,
        label="Then",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.GTT_FIELDS:  # a GTT is set up from the queue's full form
            self.fields.pop(name, None)

    @property
    def laid_out_fields(self):
        """The fields in the form's main list: the exit plan has its own block (the Queue
        form's, orders/_exit_plan_fields.html, with where the exits will live)."""
        return [field for field in self.visible_fields() if field.name not in self.EXIT_FIELDS]
