// The review page's document viewers load a document only when a person opens its
// "Show the document" section. Every fetch of a document is written to the record of
// disclosures (FERPA, 34 CFR 99.32), so a page load must fetch none: the viewer
// carries the address in data-src and gets its src here, on the first opening.
// Without JavaScript the viewer stays hidden and the section's link opens the document
// in a new tab.
(function () {
  "use strict";
  function load(details) {
    if (!details.open) return;
    var viewer = details.querySelector("[data-src]");
    if (!viewer || viewer.getAttribute("src")) return;
    viewer.setAttribute("src", viewer.dataset.src);
    viewer.hidden = false; // hidden without JavaScript, where the link stands in for it
  }
  var sections = document.querySelectorAll("details[data-document-viewer]");
  Array.prototype.forEach.call(sections, function (details) {
    details.addEventListener("toggle", function () { load(details); });
    load(details); // already open (the browser restored it, say)
  });
})();
