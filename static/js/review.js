// The camera review queue: "All" ticks or unticks every event for the bulk confirm / reject form.
//
// Without JavaScript the box stays disabled and each event is ticked by hand; the server decides
// the ticked events all together or not at all either way. Events decided one by one (htmx swaps
// them out) leave the selection, so "All" counts only what is still on the page.
(function () {
  "use strict";

  function picks() {
    return Array.prototype.slice.call(document.querySelectorAll("input.event-pick"));
  }

  function sync(all) {
    var boxes = picks();
    var ticked = boxes.filter(function (box) {
      return box.checked;
    }).length;
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }

  var all = document.querySelector("[data-review-all]");
  if (!all) {
    return;
  }
  all.disabled = false;
  sync(all);
  all.addEventListener("change", function () {
    picks().forEach(function (box) {
      box.checked = all.checked;
    });
  });
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("event-pick")) {
      sync(all);
    }
  });
  document.body.addEventListener("htmx:afterSwap", function () {
    sync(all);
  });
})();
