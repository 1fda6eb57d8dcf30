// Progressive enhancement only: the shop works without this file.
// Counts down to a payment deadline in the customer's own clock and time zone, in the page's
// language (data-left "{time} left", data-over "time is up").
(function () {
  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      if (isNaN(left)) return;
      var at = new Date(el.getAttribute("datetime"));
      var clock = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      if (left <= 0) { el.textContent = clock + " (" + el.dataset.over + ")"; return; }
      var m = Math.floor(left / 60), s = left % 60;
      var remaining = m + ":" + (s < 10 ? "0" : "") + s;
      el.textContent = clock + " (" + el.dataset.left.replace("{time}", remaining) + ")";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();

// A flash sale's time left, ticking beside the end time the server wrote ("{time} left" in the
// page's language). When the sale ends while the page is open, the page is read again: the
// server then shows the normal price.
(function () {
  var seen = {};
  function tick() {
    document.querySelectorAll("[data-sale-ends]").forEach(function (el, i) {
      var left = Math.floor((Date.parse(el.dataset.saleEnds) - Date.now()) / 1000);
      if (isNaN(left)) return;
      if (left <= 0) {
        if (seen[i]) location.reload();
        return;
      }
      seen[i] = true;
      var h = Math.floor(left / 3600), m = Math.floor(left / 60) % 60, s = left % 60;
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      el.textContent = el.dataset.left.replace("{time}", h + ":" + pad(m) + ":" + pad(s));
      el.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();

// After an account check is swapped in, mark the fields it names as invalid (tied to their
// message), and clear the marks of the fields it no longer names.
document.addEventListener("htmx:afterSwap", function () {
  var check = document.getElementById("account-check");
  var form = check && check.closest("form");
  if (!form) return;
  form.querySelectorAll(".fields input, .fields select").forEach(function (input) {
    var error = check.querySelector('[data-error-for="' + input.name + '"]');
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== "err-" + input.name;
    });
    if (error) { input.setAttribute("aria-invalid", "true"); ids.push(error.id); }
    else input.removeAttribute("aria-invalid");
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  });
});

// The purchase form's idempotency key, made when the form is sent: Buy pressed twice sends the
// same key (one order); a form changed since the last press is another purchase (a new key).
// Without this script (or without crypto), the field stays empty and the server makes the key
// from the purchase itself (checkout.purchase_keys).
document.addEventListener("submit", function (event) {
  var field = event.target.querySelector && event.target.querySelector('input[name="idempotency_key"]');
  if (!field || !window.crypto || !crypto.getRandomValues) return;
  var data = new FormData(event.target);
  data.delete("idempotency_key");
  var purchase = new URLSearchParams(data).toString();
  if (field.value && field.dataset.purchase === purchase) return;
  var bytes = crypto.getRandomValues(new Uint8Array(16));
  field.value = Array.prototype.map.call(bytes, function (b) {
    return (b + 256).toString(16).slice(1);
  }).join("");
  field.dataset.purchase = purchase;
});
