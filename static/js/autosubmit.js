// Controls marked data-autosubmit submit their form on change. A static file, not an
// inline onchange="" handler: the Content-Security-Policy allows no inline script.
// Delegated from the document, so it also works for markup htmx swaps in later.
document.addEventListener("change", (event) => {
  const control = event.target.closest("[data-autosubmit]");
  if (control && control.form) {
    control.form.requestSubmit();
  }
});
