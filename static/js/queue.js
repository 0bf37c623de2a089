// The instrument autocomplete lives in order_form.js.

// Copy buttons: <button data-copy="#element-id">.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var source = document.querySelector(button.dataset.copy);
  if (!source) return;
  var text = source.textContent.trim();
  function selectIt() {  // no Clipboard API (or refused): select the text for Ctrl-C
    var range = document.createRange();
    range.selectNodeContents(source);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    button.textContent = "Selected — press Ctrl-C";
  }
  if (!navigator.clipboard) return selectIt();
  navigator.clipboard.writeText(text).then(function () {
    button.textContent = "Copied";
  }, selectIt);
});
