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
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    button.textContent = "Copied";
  });
});
