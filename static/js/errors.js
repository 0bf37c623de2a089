// No click may do nothing silently. A 5xx is not swapped (base.html's htmx-config) and a
// network failure swaps nothing either: both show a banner at the top of the page saying
// the server could not complete the request, so the user knows to try again.
(function () {
  function banner(text) {
    var box = document.getElementById("request-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "request-error";
      box.className = "request-error";
      box.setAttribute("role", "alert");
      var message = document.createElement("span");
      var close = document.createElement("button");
      close.type = "button";
      close.className = "link";
      close.textContent = "Dismiss";
      close.addEventListener("click", function () { box.remove(); });
      box.appendChild(message);
      box.appendChild(close);
      var main = document.querySelector("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    box.firstChild.textContent = text;
    box.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr ? xhr.status + (xhr.statusText ? " " + xhr.statusText : "") : "error";
    banner("The server could not complete that (" + status + "). Nothing on this page " +
      "changed; try again, and if it keeps failing see Events.");
  });

  document.addEventListener("htmx:sendError", function () {
    banner("The server could not complete that: it did not answer (is it running, are you " +
      "online?). Try again.");
  });

  // A later request that succeeds clears the banner.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      var box = document.getElementById("request-error");
      if (box) box.remove();
    }
  });
})();
