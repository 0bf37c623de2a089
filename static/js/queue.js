// Picking an instrument from the autocomplete list fills the order form's field.
document.addEventListener("click", function (event) {
  var option = event.target.closest("#instrument-results li[role=option]");
  if (!option) return;
  var input = document.getElementById("id_symbol");
  input.value = option.dataset.exchange + ":" + option.dataset.symbol;
  document.getElementById("instrument-results").innerHTML = "";
  input.focus();
});

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
