// Follows a batch print being built in the background and shows the download link
// when it is ready. Without JavaScript, reloading the page shows the same state.
(function () {
  "use strict";
  var box = document.getElementById("batch");
  if (!box || !window.fetch) return;
  var bar = box.querySelector(".progress-bar");
  var progress = box.querySelector(".progress");
  var state = document.getElementById("batch-state");
  var link = document.getElementById("batch-download");
  var labels = { queued: state.textContent };
  // Widths are set here, not in style attributes, which the CSP does not allow.
  bar.style.width = progress.getAttribute("aria-valuenow") + "%";

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        bar.style.width = data.percent + "%";
        progress.setAttribute("aria-valuenow", String(data.percent));
        state.textContent = data.done + " / " + data.total;
        if (data.status === "done") {
          link.hidden = false;
          state.textContent = link.textContent;
        } else if (data.status !== "failed") {
          window.setTimeout(poll, 1000);
        } else {
          state.textContent = labels.queued;
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  if (box.dataset.status !== "done" && box.dataset.status !== "failed") poll();
})();
