// Live pages: while the tab is visible, every few seconds, fire "live-tick" on each element
// marked data-live (its hx-get polls a small fragment; the server reads only the database
// and the live quote cache). Hidden tab: no polls; shown again: one poll at once.
(function () {
  var meta = document.querySelector('meta[name="live-poll-ms"]');
  var every = meta ? parseInt(meta.content, 10) || 5000 : 5000;

  function tick() {
    if (document.visibilityState !== "visible" || !window.htmx) return;
    document.querySelectorAll("[data-live]").forEach(function (element) {
      htmx.trigger(element, "live-tick");
    });
  }

  setInterval(tick, every);
  document.addEventListener("visibilitychange", tick);

  // A poll that was redirected (signed out, session ended) got a whole page back, not its
  // fragment: swap nothing and reload, which lands on the sign-in page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var element = event.detail.elt;
    if (!element || !element.hasAttribute("data-live")) return;
    var answered = (event.detail.xhr && event.detail.xhr.responseURL) || "";
    if (answered && new URL(answered).pathname.indexOf("/live/") !== 0) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });

  // A poll's swap keeps what the reader opened: a <details data-keep-open="key"> (a halt
  // banner's message) open before the swap is open again after it.
  var keepOpen = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    var element = event.detail.elt, target = event.detail.target;
    if (!element || !element.hasAttribute("data-live") || !target) return;
    keepOpen = Array.prototype.map.call(
      target.querySelectorAll("details[data-keep-open][open]"),
      function (details) { return details.getAttribute("data-keep-open"); });
  });
  document.addEventListener("htmx:afterSwap", function () {
    keepOpen.forEach(function (key) {
      document.querySelectorAll("details[data-keep-open]").forEach(function (details) {
        if (details.getAttribute("data-keep-open") === key) details.open = true;
      });
    });
    keepOpen = [];
  });

  // An exit cell whose edit form is open keeps what the trader is typing: the poll's newer
  // cell waits (the cell keeps its old version, so the next poll after closing brings it).
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.classList.contains("exit-plan-cell") &&
        target.querySelector("details.exit-edit[open]")) {
      event.detail.shouldSwap = false;
    }
  });

  // A square-off cell is swapped only when the position's open quantity changed (a fill,
  // a square-off): otherwise the poll would reset the quantity being typed every tick.
  // When it does change, a quantity the trader typed is kept (the new maximum applies:
  // the browser refuses more than is open) and so is the focus.
  var typed = {};
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target, fragment = event.detail.fragment;
    if (!target || !target.classList.contains("square-off-cell") || !fragment) return;
    var incoming = fragment.classList && fragment.classList.contains("square-off-cell")
      ? fragment : fragment.querySelector && fragment.querySelector(".square-off-cell");
    if (incoming && incoming.getAttribute("data-open") === target.getAttribute("data-open")) {
      event.detail.shouldSwap = false;
      return;
    }
    var input = target.querySelector("input[name=quantity]");
    if (input && (input.value !== input.defaultValue || document.activeElement === input)) {
      typed[target.id] = { value: input.value, focused: document.activeElement === input };
    }
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var cell = event.detail.target;
    var kept = cell && typed[cell.id];
    if (!kept) return;
    delete typed[cell.id];
    var input = document.querySelector("#" + CSS.escape(cell.id) + " input[name=quantity]");
    if (!input) return;  // the position closed: nothing left to exit
    input.value = kept.value;
    if (kept.focused) input.focus({ preventScroll: true });
  });

  // Toasts: dismiss on their button; keep at most four on screen (older ones go); a success
  // closes by itself after 8 s, a warning or error stays until dismissed.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss-toast]");
    if (button) button.closest(".toast").remove();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var region = document.getElementById("toasts");
    if (!region || event.detail.target !== region) return;
    while (region.children.length > 4) region.removeChild(region.firstElementChild);
    region.querySelectorAll(".toast-ok:not([data-closing])").forEach(function (toast) {
      toast.setAttribute("data-closing", "");
      setTimeout(function () { toast.remove(); }, 8000);
    });
  });
})();
