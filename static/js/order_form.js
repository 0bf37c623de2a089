// The order forms (new order, inline edit, trade from a holding): which price
// fields the chosen order type uses, and the instrument autocomplete.
(function () {
  "use strict";

  // --- Price and trigger only for the order types that use them -----------------
  // MARKET: neither; LIMIT: price; SL: both; SL-M: trigger. A field the type does
  // not use is disabled (and so not sent); the server's rules stay as they are.
  var USES = {
    MARKET: [],
    LIMIT: ["price"],
    SL: ["price", "trigger_price"],
    "SL-M": ["trigger_price"],
  };

  function applyOrderType(form) {
    var kind = form.querySelector("select[name=order_type]");
    if (!kind || !(kind.value in USES)) return;
    ["price", "trigger_price"].forEach(function (name) {
      var input = form.querySelector("input[name=" + name + "]");
      if (!input) return;
      var used = USES[kind.value].indexOf(name) >= 0;
      input.disabled = !used;
      var wrapper = input.closest(".field");
      if (wrapper) wrapper.classList.toggle("field-off", !used);
      input.title = used ? "" : "Not used by a " + kind.value + " order";
    });
  }

  function applyAll(root) {
    (root || document).querySelectorAll("form.order-form").forEach(applyOrderType);
    if (root && root.matches && root.matches("form.order-form")) applyOrderType(root);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("form.order-form select[name=order_type]")) {
      applyOrderType(event.target.form);
    }
  });
  document.addEventListener("DOMContentLoaded", function () { applyAll(document); });
  document.addEventListener("htmx:load", function (event) { applyAll(event.target); });

  // --- Instrument autocomplete: mouse and keyboard ------------------------------
  // The input is a combobox (aria-controls names its listbox); Up/Down move the
  // active option (aria-activedescendant), Enter picks it, Escape closes the list.
  function inputFor(list) {
    return list && document.querySelector('[role=combobox][aria-controls="' + list.id + '"]');
  }

  function listFor(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function options(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll("li[role=option]")) : [];
  }

  function close(input, list) {
    if (list) list.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function pick(input, option) {
    var list = listFor(input);
    input.value = option.dataset.exchange + ":" + option.dataset.symbol;
    close(input, list);
    input.focus();
    // A one-field form (a watchlist's "Add a symbol") adds what was picked, by Enter
    // as by a click; an order form only fills the field (it has more to fill).
    if (input.hasAttribute("data-submit-on-pick") && input.form) input.form.requestSubmit();
  }

  function activate(input, list, index) {
    var all = options(list);
    if (!all.length) return;
    index = (index + all.length) % all.length;
    all.forEach(function (option, i) {
      var on = i === index;
      option.classList.toggle("active", on);
      option.setAttribute("aria-selected", on ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", all[index].id);
    all[index].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("click", function (event) {
    var option = event.target.closest(".search-results li[role=option]");
    if (!option) return;
    var input = inputFor(option.closest(".search-results"));
    if (input) pick(input, option);
  });

  // A press on an option keeps the focus in the input (so leaving the field, below,
  // can close the list without racing the click that picks).
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest(".search-results li[role=option]")) event.preventDefault();
  });

  // Leaving the field (Tab, a click elsewhere) closes its list.
  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[role=combobox]")) close(input, listFor(input));
  });

  // Results that arrive after the field was left (or picked from) are not shown.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var list = event.detail.target;
    if (!list || !list.classList || !list.classList.contains("search-results")) return;
    var input = inputFor(list);
    if (input && document.activeElement !== input) event.detail.shouldSwap = false;
  });

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[role=combobox]")) return;
    var list = listFor(input);
    var all = options(list);
    var current = all.findIndex(function (o) { return o.classList.contains("active"); });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      activate(input, list, current < 0 ? (step > 0 ? 0 : -1) : current + step);
    } else if (event.key === "Enter") {
      if (current >= 0) {
        event.preventDefault();  // pick, do not submit the form
        pick(input, all[current]);
      }
    } else if (event.key === "Escape") {
      if (all.length || (list && list.children.length)) {
        event.preventDefault();
        close(input, list);
      }
    }
  });

  // New results (or a re-rendered form): nothing active yet; say whether the list is open.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("input[role=combobox]").forEach(function (input) {
      var active = input.getAttribute("aria-activedescendant");
      var option = active && document.getElementById(active);
      if (!option || !option.classList.contains("active")) {
        input.removeAttribute("aria-activedescendant");
      }
      input.setAttribute("aria-expanded", options(listFor(input)).length ? "true" : "false");
    });
  });
})();
