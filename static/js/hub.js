/* The hub queue's bulk bar: "tick all" and the count of ticked rows. Plain progressive
   enhancement: without it the checkboxes and the bulk buttons work the same. */
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("bulk-form");
    if (!form) { return; }
    var all = document.getElementById("tick-all");
    var count = document.getElementById("bulk-selected");
    var ticks = function () { return form.querySelectorAll("input.tick"); };
    function refresh() {
      var boxes = ticks();
      var ticked = 0;
      for (var i = 0; i < boxes.length; i++) {
        if (boxes[i].checked) { ticked++; }
        boxes[i].closest("tr").classList.toggle("row-ticked", boxes[i].checked);
      }
      if (count) { count.textContent = String(ticked); }
      if (all) {
        all.checked = ticked > 0 && ticked === boxes.length;
        all.indeterminate = ticked > 0 && ticked < boxes.length;
      }
    }
    if (all) {
      all.addEventListener("change", function () {
        var boxes = ticks();
        for (var i = 0; i < boxes.length; i++) { boxes[i].checked = all.checked; }
        refresh();
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target.classList && event.target.classList.contains("tick")) { refresh(); }
    });
    refresh();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
