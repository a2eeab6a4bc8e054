// The home page's service search, instant: filters as one types. Without this script the same
// form works through the server (?q=), which marks the same services hidden.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var catalog = document.getElementById("catalog");
  if (!input || !catalog) return;
  var status = document.getElementById("search-status");
  var fold = function (s) { return s.toLowerCase().replace(/[\u2019\u02bc`\u2018]/g, "'"); };
  var categories = Array.prototype.slice.call(catalog.querySelectorAll("details.category"));
  function apply() {
    var words = fold(input.value.slice(0, 100)).split(/[\s,.]+/).filter(Boolean);
    var total = 0;
    categories.forEach(function (cat) {
      var shown = 0;
      Array.prototype.forEach.call(cat.querySelectorAll("li.service"), function (li) {
        var hay = li.getAttribute("data-search") || "";
        var ok = words.every(function (w) { return hay.indexOf(w) >= 0; });
        li.hidden = !ok;
        if (ok) shown += 1;
      });
      cat.hidden = shown === 0;
      cat.open = words.length > 0 && shown > 0;
      total += shown;
    });
    catalog.setAttribute("data-found", String(total));
    if (status) {
      status.textContent = words.length === 0 ? "" :
        total === 0 ? status.getAttribute("data-none") :
        status.getAttribute("data-found").replace("{count}", String(total));
    }
  }
  input.addEventListener("input", apply);
})();
