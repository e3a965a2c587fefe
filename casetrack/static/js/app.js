// Small behaviours that pages used to carry as inline handlers; the Content-Security-Policy
// (script-src 'self') forbids inline script, so they are wired up here from data attributes.
(function () {
  "use strict";
  // <form data-confirm="question">: ask before submitting
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    }
  });
  // <input data-select-on-click>: a click selects the whole value (to copy a token)
  document.addEventListener("click", function (event) {
    var input = event.target;
    if (input instanceof HTMLInputElement && input.hasAttribute("data-select-on-click")) {
      input.select();
    }
  });
})();
