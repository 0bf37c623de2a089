// Controls marked data-autosubmit submit their form on change. A static file, not an
// inline onchange="" handler: the Content-Security-Policy allows no inline script.
// Delegated from the document, so it also works for markup htmx swaps in later.
document.addEventListener("change", (event) => {
  const control = event.target.closest("[data-autosubmit]");
  if (control && control.form) {
    control.form.requestSubmit();
  }
});

// A filter changed before htmx was ready (a slow connection: the selects show before the
// scripts run) sent nothing, and the data did not follow what the select said. Once htmx
// has wired the page (its own DOMContentLoaded handler runs first), such a form asks again.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.htmx) return;
  document.querySelectorAll("form[hx-get][hx-trigger*='change']").forEach((form) => {
    const changed = Array.from(form.elements).some((control) => {
      if (control.tagName === "SELECT") {
        // As rendered: the option marked selected, or else the first ("All …").
        const options = Array.from(control.options);
        const rendered = options.find((option) => option.defaultSelected) || options[0];
        return rendered !== undefined && control.value !== rendered.value;
      }
      return control.type !== "hidden" && "defaultValue" in control && control.value !== control.defaultValue;
    });
    if (changed) htmx.trigger(form, "change");
  });
});

// A form that returns to "this page" (the account switcher's `next`) returns to the page as
// it is now: filters chosen over htmx pushed a newer URL than the one it was rendered with.
document.addEventListener("submit", (event) => {
  const next = event.target.querySelector && event.target.querySelector("input[data-current-url]");
  if (next) next.value = window.location.pathname + window.location.search;
});
