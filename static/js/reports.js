// Statistics filters: show only the fields of the chosen kind of period (data-period lists
// the kinds a field belongs to). Without JavaScript every field shows and the server reads
// only those of the chosen kind.
(function () {
  "use strict";
  var kind = document.getElementById("periode");
  if (!kind) { return; }
  function update() {
    document.querySelectorAll("[data-period]").forEach(function (block) {
      var shown = block.getAttribute("data-period").split(" ").indexOf(kind.value) !== -1;
      block.hidden = !shown;
      block.querySelectorAll("select, input").forEach(function (field) { field.disabled = !shown; });
    });
  }
  kind.addEventListener("change", update);
  update();
})();
