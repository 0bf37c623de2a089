// After a form comes back from an HTMX request with field errors, bring the first error
// into view and put the cursor in its field (on a phone the error was above the screen).
// Only answers to a form submission: live polls and other swaps never move the page.
// (The submitting form is often replaced by the answer, so its own events no longer reach
// the document: the new content is looked at on htmx:load.)
(function () {
  var pendingUntil = 0;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    var verb = event.detail && event.detail.requestConfig && event.detail.requestConfig.verb;
    if (source && source.closest && source.closest("form") && (!verb || verb === "post")) {
      pendingUntil = Date.now() + 15000;
    }
  });

  document.addEventListener("htmx:load", function (event) {
    if (Date.now() > pendingUntil) return;
    var root = event.target;
    if (!root || !root.querySelector) return;
    var error = root.querySelector(
      "form .field-error[role=alert], form .form-error[role=alert]"
    );
    if (!error) return;
    pendingUntil = 0;
    var field = error.closest(".field, fieldset, form");
    var input = field && field.querySelector("input:not([type=hidden]), select, textarea");
    error.scrollIntoView({ block: "center" });
    if (input && !input.disabled) input.focus({ preventScroll: true });
  });
})();

// A number field holding what is not a number ("12e", "1.2.3") reads as empty, so the
// server said the field was missing. Send a marker instead: the form's own check then
// says "Enter a number." at that field.
document.addEventListener("htmx:configRequest", function (event) {
  var source = event.detail && event.detail.elt;
  var form = source && source.closest && source.closest("form");
  if (!form) return;
  form.querySelectorAll("input[type=number]").forEach(function (input) {
    if (input.name && !input.disabled && input.validity.badInput) {
      event.detail.parameters[input.name] = "not a number";
    }
  });
});
