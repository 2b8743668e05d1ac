/* The counter's case form shows only the intake fields of the chosen channel: the hall for a
   window visit, the service point and its scenario for a 就近办 visit, the call or ticket
   number for a remote contact. A field for another channel is hidden and disabled, so it is
   not posted. Progressive enhancement: without it every field shows and the service says
   which ones do not fit (frontdesk/forms.py CaseOpenForm). */
(function () {
  "use strict";
  function sync(form) {
    var channel = form.querySelector("select[name=channel]");
    if (!channel) { return; }
    form.querySelectorAll("[data-channels]").forEach(function (input) {
      var fits = input.dataset.channels.split(" ").indexOf(channel.value) !== -1;
      var box = input.closest(".field") || input;
      box.hidden = !fits;
      input.disabled = !fits;
    });
  }
  function attach() {
    document.querySelectorAll("form").forEach(function (form) {
      var channel = form.querySelector("select[name=channel]");
      if (!channel || !form.querySelector("[data-channels]")) { return; }
      channel.addEventListener("change", function () { sync(form); });
      sync(form);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", attach);
  } else {
    attach();
  }
})();
