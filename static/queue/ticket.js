// The resident's ticket: refresh the place, wait and window every 5 seconds.
(function () {
  "use strict";
  var root = document.getElementById("my-ticket");
  if (!root) return;
  var status = document.getElementById("ticket-status");
  function show(t) {
    var text;
    if (t.status === "called") text = root.dataset.called + " " + (t.window || "");
    else if (t.status === "in_service") text = root.dataset.serving + " " + (t.window || "");
    else if (t.status === "finished") text = root.dataset.finished;
    else if (t.status === "no_show") text = root.dataset.noShow;
    else text = root.dataset.waiting;
    if (status.dataset.status !== t.status && t.status === "called" && navigator.vibrate) navigator.vibrate([300, 100, 300]);
    status.dataset.status = t.status;
    status.textContent = text;
    var place = document.getElementById("ticket-place");
    place.hidden = t.position === null || t.position === undefined;
    document.getElementById("ticket-position").textContent = t.position || "";
    document.getElementById("ticket-wait").textContent = t.estimated_wait_minutes === null ? "" : t.estimated_wait_minutes;
  }
  function poll() {
    fetch("/api/v1/tickets/" + encodeURIComponent(root.dataset.token), { headers: { accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (t) { if (t) show(t); })
      .catch(function () {})
      .finally(function () {
        var done = status.dataset.status === "finished" || status.dataset.status === "no_show";
        if (!done) setTimeout(poll, 5000);
      });
  }
  setTimeout(poll, 5000);
})();
