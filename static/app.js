// Progressive enhancement only: the shop works without this file.
// Counts down to a payment deadline in the customer's own clock and time zone.
(function () {
  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      if (isNaN(left)) return;
      var at = new Date(el.getAttribute("datetime"));
      var clock = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      if (left <= 0) { el.textContent = clock + " (time is up)"; return; }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = clock + " (" + m + ":" + (s < 10 ? "0" : "") + s + " left)";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
