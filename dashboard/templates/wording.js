// The couple page's live wording preview: as the therapist types, ask the server for each
// partner's preview and show it. Only an enhancement: without it, "Preview" does the same.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-preview]");
  Array.prototype.forEach.call(forms, function (form) {
    var box = form.querySelector("textarea");
    var target = document.getElementById(form.getAttribute("data-preview"));
    var url = form.getAttribute("data-preview-url");
    if (!box || !target || !url || !window.fetch) {
      return;
    }
    var timer = null;
    var asked = 0;
    box.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var mine = ++asked;
        var body = new URLSearchParams();
        body.set("csrf", form.elements.csrf.value);
        body.set("text", box.value);
        window.fetch(url, { method: "POST", body: body, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.text() : null; })
          .then(function (html) {
            if (html !== null && mine === asked) {
              target.innerHTML = html;
            }
          })
          .catch(function () {});
      }, 400);
    });
  });
})();
