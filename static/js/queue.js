// Picking an instrument from the autocomplete list fills the order form's field.
document.addEventListener("click", function (event) {
  var option = event.target.closest("#instrument-results li[role=option]");
  if (!option) return;
  var input = document.getElementById("id_symbol");
  input.value = option.dataset.exchange + ":" + option.dataset.symbol;
  document.getElementById("instrument-results").innerHTML = "";
  input.focus();
});
