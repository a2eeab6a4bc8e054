// Desk console: the service timer against the published norm.
(function () {
  "use strict";
  var timer = document.querySelector(".desk-timer");
  if (!timer || !timer.dataset.since) return;
  var since = Date.parse(timer.dataset.since);
  var norm = parseInt(timer.dataset.norm, 10) || 0;
  function tick() {
    var s = Math.max(0, Math.floor((Date.now() - since) / 1000));
    var m = Math.floor(s / 60);
    timer.textContent = m + ":" + String(s % 60).padStart(2, "0");
    timer.classList.toggle("over-norm", norm > 0 && m >= norm);
  }
  tick();
  setInterval(tick, 1000);
})();
