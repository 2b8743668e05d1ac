/* The counter without the mouse. On the open-a-consultation page:
     "/"          puts the cursor in the item search (unless you are typing in a field);
     ↑ / ↓        in the item search move through the results that can still be added;
     Enter        adds the highlighted item (with none highlighted, it does nothing);
     Ctrl+Enter   (⌘+Enter) opens the consultation, from anywhere in the form or the search.
   The front-desk search box has the focus on load (autofocus) and Enter searches; on the
   consultation page the buttons of each row follow each other in the Tab order. Every
   shortcut is shown on the page (.keys-legend). Without this file the pages work by mouse. */
(function () {
  "use strict";

  function typing(el) {
    if (!el) { return false; }
    return el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
  }

  function choices() {
    var results = document.getElementById("picker-results");
    return results ? Array.prototype.slice.call(results.querySelectorAll("button.picker-add:not([disabled])")) : [];
  }

  function current() {
    var results = document.getElementById("picker-results");
    return results ? results.querySelector("button.picker-add.is-active") : null;
  }

  function highlight(button) {
    var old = current();
    if (old) { old.classList.remove("is-active"); old.removeAttribute("aria-selected"); }
    var search = document.getElementById("picker-q");
    if (!button) {
      if (search) { search.removeAttribute("aria-activedescendant"); }
      return;
    }
    button.classList.add("is-active");
    button.setAttribute("aria-selected", "true");
    if (!button.id) { button.id = "picker-item-" + (button.getAttribute("data-code") || "").replace(/[^\w-]/g, "_"); }
    if (search) { search.setAttribute("aria-activedescendant", button.id); }
    button.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = choices();
    if (!list.length) { return; }
    var at = list.indexOf(current());
    var next = at === -1 ? (step > 0 ? 0 : list.length - 1) : (at + step + list.length) % list.length;
    highlight(list[next]);
  }

  document.addEventListener("keydown", function (event) {
    var form = document.getElementById("open-case");
    if (!form) { return; }
    var search = document.getElementById("picker-q");
    var target = event.target;

    // Ctrl+Enter: open the consultation with what is chosen.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      return;
    }
    // "/": go to the item search, unless the key is typed into a field.
    if (event.key === "/" && !typing(target) && !event.ctrlKey && !event.metaKey && !event.altKey && search) {
      event.preventDefault();
      search.focus();
      search.select();
      return;
    }
    if (target !== search) { return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      // Never submit the case from the search box by accident.
      event.preventDefault();
      var chosen = current();
      if (chosen && !chosen.disabled) { chosen.click(); }
    } else if (event.key === "Escape") {
      highlight(null);
    }
  });

  // New results (typed search, or an item added): nothing is highlighted until ↓.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "picker-results") { highlight(null); }
  });
})();
