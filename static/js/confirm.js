// Confirmations without inline JS (CSP). data-confirm="…" on a form or button asks before it
// goes, for plain forms and HTMX ones alike; "{quantity}" in the question is replaced by the
// form's quantity field as it is at that moment (a partial square-off says how many).
(function () {
  function question(element) {
    var holder = element.closest("[data-confirm]");
    if (!holder) return null;
    var text = holder.getAttribute("data-confirm");
    var form = holder.tagName === "FORM" ? holder : holder.closest("form") || holder.form;
    var field = form && form.elements ? form.elements.namedItem("quantity") : null;
    return text.replace(/\{quantity\}/g, field && field.value ? field.value : "?");
  }

  function isHtmx(element) {
    return element.closest("[hx-post],[hx-get],[data-hx-post],[data-hx-get]") !== null;
  }

  // Plain forms: ask on submit.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || form;
    if (isHtmx(form)) return;
    var text = question(submitter) || question(form);
    if (text !== null && !window.confirm(text)) event.preventDefault();
  }, true);

  // HTMX requests: htmx:confirm fires before each one.
  document.addEventListener("htmx:confirm", function (event) {
    // A form's submit button may carry its own question (the form is the elt then).
    var trigger = event.detail.triggeringEvent;
    var submitter = trigger && trigger.submitter;
    var text = (submitter && question(submitter)) || question(event.detail.elt);
    if (text === null) return;
    event.preventDefault();
    if (window.confirm(text)) event.detail.issueRequest(true);
  });
})();
