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
