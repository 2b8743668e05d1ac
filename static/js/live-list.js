/* Lists that stay current. A container marked `data-live-list` polls its own page with
   htmx (hx-get / hx-select / hx-swap="outerHTML" on the container) and this file:
   - holds the refresh back while the person is working in the list: a ticked box, a
     focused field, or a field with text in it (in the list, or in the form around it);
   - marks the rows that were not there before the refresh with a "new" tag, and the
     rows whose content changed (their `data-row-version`: last change, state, holder)
     with a "changed" tag — text and a mark, not colour alone — until the next refresh;
   - keeps the old list when the answer has no list in it (signed out, an error page).
   Without JavaScript the page is an ordinary page and a reload shows the same. */
(function () {
  "use strict";
  var before = {}; // container id -> {row key: row version} shown when its refresh was sent

  function rowKey(row) {
    var link = row.querySelector("td.col-id a");
    return link ? link.getAttribute("href") : row.id || null;
  }

  // A row's version is on the row, or on one of its cells (the hub keeps its rows' own attributes).
  function rowVersion(row) {
    var holder = row.hasAttribute("data-row-version") ? row : row.querySelector("[data-row-version]");
    return holder ? holder.getAttribute("data-row-version") : "";
  }

  function keys(container) {
    var seen = {};
    var rows = container.querySelectorAll("tbody tr");
    for (var i = 0; i < rows.length; i++) {
      var key = rowKey(rows[i]);
      if (key) { seen[key] = rowVersion(rows[i]); }
    }
    return seen;
  }

  function isBusy(container) {
    var scopes = [container];
    var form = container.parentElement && container.parentElement.closest("form");
    if (form) { scopes.push(form); }
    var active = document.activeElement;
    for (var s = 0; s < scopes.length; s++) {
      var scope = scopes[s];
      if (scope.querySelector("input[type=checkbox]:checked")) { return "ticked"; }
      // Anything focused in the list itself (a keyboard user's place), or a field of
      // the form around it (the hub's bulk bar).
      if (active && active !== document.body && scope.contains(active) &&
          (scope === container || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) { return "focus"; }
      var fields = scope.querySelectorAll("input[type=text], input[type=search], input:not([type]), textarea");
      for (var i = 0; i < fields.length; i++) {
        if (fields[i].value.trim() !== "") { return "text"; }
      }
    }
    return "";
  }

  function setState(container, state) {
    container.setAttribute("data-live-state", state);
    var note = container.querySelector(".live-note");
    if (state === "paused") {
      if (!note) {
        note = document.createElement("p");
        note.className = "live-note";
        note.setAttribute("role", "status");
        container.insertBefore(note, container.firstChild);
      }
      note.textContent = container.getAttribute("data-paused-label") || "";
    } else if (note) {
      note.parentNode.removeChild(note);
    }
  }

  function tag(row, className, text) {
    var cell = row.querySelector("td.col-id") || row.cells[0];
    if (!cell || cell.querySelector("." + className)) { return; }
    var span = document.createElement("span");
    span.className = "tag " + className;
    span.textContent = text;
    cell.appendChild(document.createTextNode(" "));
    cell.appendChild(span);
  }

  // Rows that were not there before are new; rows whose version moved have changed.
  function markRows(container, old) {
    var newLabel = container.getAttribute("data-new-label") || "New";
    var changedLabel = container.getAttribute("data-changed-label") || "Changed";
    var rows = container.querySelectorAll("tbody tr");
    for (var i = 0; i < rows.length; i++) {
      var key = rowKey(rows[i]);
      if (!key) { continue; }
      if (!Object.prototype.hasOwnProperty.call(old, key)) {
        rows[i].classList.add("row-new");
        tag(rows[i], "tag-new", newLabel);
      } else if (old[key] !== rowVersion(rows[i])) {
        rows[i].classList.add("row-changed");
        tag(rows[i], "tag-changed", changedLabel);
      }
    }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var container = event.detail.elt;
    if (!container || !container.hasAttribute || !container.hasAttribute("data-live-list")) { return; }
    var busy = isBusy(container);
    if (busy) {
      event.preventDefault();
      container.setAttribute("data-live-busy", busy);
      setState(container, "paused");
      return;
    }
    before[container.id] = keys(container);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var container = event.detail.elt;
    if (!container || !container.hasAttribute || !container.hasAttribute("data-live-list")) { return; }
    var xhr = event.detail.xhr;
    var text = xhr ? xhr.responseText || "" : "";
    // A sign-in page or anything else without this list: keep what is on the screen.
    if (text.indexOf('id="' + container.id + '"') === -1) {
      event.detail.shouldSwap = false;
      delete before[container.id];
      return;
    }
    // Someone started working while the answer was on its way: keep their work.
    if (isBusy(container)) {
      event.detail.shouldSwap = false;
      delete before[container.id];
      setState(container, "paused");
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    for (var id in before) {
      if (!Object.prototype.hasOwnProperty.call(before, id)) { continue; }
      var container = document.getElementById(id);
      if (container) {
        markRows(container, before[id]);
        setState(container, "fresh");
      }
      delete before[id];
    }
  });

  // The hub's "tick all" box is re-drawn by a refresh: give the new one the same
  // behaviour (tick every row, then let the form's own listener recount).
  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all || all.id !== "tick-all" || !all.closest("[data-live-list]")) { return; }
    if (all.getAttribute("data-live-drawn") !== "1") { return; }
    var form = all.closest("form");
    var boxes = form ? form.querySelectorAll("input.tick") : [];
    for (var i = 0; i < boxes.length; i++) { boxes[i].checked = all.checked; }
    if (boxes.length) { boxes[0].dispatchEvent(new Event("change", { bubbles: true })); }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var all = document.querySelector("[data-live-state=fresh] #tick-all");
    if (all) { all.setAttribute("data-live-drawn", "1"); }
  });
})();
