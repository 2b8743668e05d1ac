/* A text filter above each list of people (select[data-people-filter], taxservice.web.forms
   PeopleSelect): typing hides the people whose name and team do not contain the words, and
   the teams left empty. Progressive enhancement: without it the select works the same. */
(function () {
  "use strict";
  function normalise(text) { return text.toLowerCase().replace(/\s+/g, " ").trim(); }

  function attach(select) {
    if (select.dataset.peopleFilterReady) { return; }
    select.dataset.peopleFilterReady = "true";
    var input = document.createElement("input");
    input.type = "search";
    input.className = "people-filter";
    input.placeholder = select.dataset.peopleFilter;
    input.setAttribute("aria-label", select.dataset.peopleFilter);
    input.setAttribute("aria-controls", select.id);
    input.autocomplete = "off";
    select.parentNode.insertBefore(input, select);

    input.addEventListener("input", function () {
      var words = normalise(input.value).split(" ").filter(Boolean);
      var matches = [];
      select.querySelectorAll("option").forEach(function (option) {
        if (!option.value) { return; } // the blank choice stays
        var text = normalise(option.textContent + " " + (option.parentNode.label || ""));
        var shown = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !shown;
        if (shown && !option.disabled) { matches.push(option); }
      });
      select.querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
      // A chosen person the filter hides is chosen no more; a single match is chosen at once.
      var chosen = select.options[select.selectedIndex];
      if (chosen && chosen.hidden) { select.value = ""; }
      if (words.length && matches.length === 1) { select.value = matches[0].value; }
    });
    // Enter in the filter must not submit the step's form.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }
    });
  }

  function init(root) {
    (root || document).querySelectorAll("select[data-people-filter]").forEach(attach);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(); });
  } else {
    init();
  }
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
