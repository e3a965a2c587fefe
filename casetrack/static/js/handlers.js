/* casetrack: narrow a handler list to the chosen unit (progressive enhancement).
 * A <select data-handlers="ID"> of units controls the <select id="ID"> of handlers whose
 * options carry data-unit. Without this script every handler is listed and the server
 * refuses a handler of another unit. No framework, no inline script (CSP). */
(function () {
  "use strict";
  function narrow(unitSelect) {
    var target = document.getElementById(unitSelect.getAttribute("data-handlers"));
    if (!target) { return; }
    var unit = unitSelect.value;
    Array.prototype.forEach.call(target.options, function (opt) {
      var own = opt.getAttribute("data-unit");
      var show = own === null || !unit || own === unit;
      opt.hidden = !show;
      opt.disabled = !show;
      if (!show && opt.selected) { target.value = ""; }
    });
  }
  document.querySelectorAll("select[data-handlers]").forEach(function (sel) {
    sel.addEventListener("change", function () { narrow(sel); });
    narrow(sel);
  });
}());
