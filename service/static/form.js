// GOV.UK's error summary: when a refused form comes back (a page, or an htmx swap), the summary at
// its top takes the focus, so a person on a phone starts where the problem is; each of its links
// moves the focus to the field it names.
(function () {
  function focusSummary() {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
      summary.scrollIntoView({ block: "start" });
    }
  }
  document.addEventListener("DOMContentLoaded", focusSummary);
  document.body.addEventListener("htmx:afterSwap", focusSummary);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus();
    }
  });
})();

// The mission chooser, searchable: typing part of a code or a Thai name keeps the options that
// match (spaces and case forgiven) and hides the areas left empty. Without JavaScript the search
// box stays hidden and the grouped list works as it is.
(function () {
  function normal(text) {
    return text.toLowerCase().replace(/[\s\-_.]/g, "");
  }
  function wire() {
    var box = document.getElementById("mission-search");
    var list = document.getElementById("choose-mission");
    if (!box || !list) return;
    box.closest(".mission-search").hidden = false;
    box.addEventListener("input", function () {
      var wanted = normal(box.value);
      list.querySelectorAll("optgroup").forEach(function (group) {
        var shown = 0;
        group.querySelectorAll("option").forEach(function (option) {
          var keep = !wanted || normal(option.textContent).indexOf(wanted) !== -1;
          option.hidden = !keep;
          if (keep) shown += 1;
        });
        group.hidden = shown === 0;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", wire);
  document.body.addEventListener("htmx:afterSwap", wire);
})();
