// Upload with a progress bar. Without JavaScript the form posts normally and the
// server gives the same messages; this only adds progress and keeps the page.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var progress = document.getElementById("upload-progress");
  var bar = progress.querySelector(".progress-bar");
  var status = document.getElementById("upload-status");
  var button = form.querySelector("button");
  var maxBytes = parseInt(form.dataset.maxBytes, 10);

  function setProgress(percent) {
    bar.style.width = percent + "%";
    progress.setAttribute("aria-valuenow", String(percent));
  }

  // A refused file: the message (role="alert") is tied to the file input, which
  // takes the focus back (the disabled button had lost it) to choose another file.
  function refuse(input, message) {
    progress.hidden = true;
    button.disabled = false;
    status.textContent = message;
    input.setAttribute("aria-invalid", "true");
    var described = (input.getAttribute("aria-describedby") || "").split(/\s+/);
    if (described.indexOf(status.id) === -1) {
      input.setAttribute("aria-describedby", described.concat(status.id).join(" ").trim());
    }
    input.focus();
  }

  form.addEventListener("change", function (event) {
    if (event.target.type === "file") event.target.removeAttribute("aria-invalid");
  });

  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type=file]");
    if (!input || !input.files.length) return; // let the server explain what is missing
    var file = input.files[0];
    if (maxBytes && file.size > maxBytes) {
      event.preventDefault();
      refuse(input, form.dataset.tooLarge);
      return;
    }
    event.preventDefault();
    status.textContent = "";
    progress.hidden = false;
    button.disabled = true;
    setProgress(0);
    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) setProgress(Math.round((e.loaded / e.total) * 100));
    });
    request.addEventListener("load", function () {
      var data = {};
      try { data = JSON.parse(request.responseText); } catch (err) { data = {}; }
      if (request.status < 400 && data.redirect) {
        window.location.assign(data.redirect);
        return;
      }
      refuse(input, (data.errors && data.errors.join(" ")) || form.dataset.failed);
    });
    request.addEventListener("error", function () {
      refuse(input, form.dataset.failed);
    });
    request.send(new FormData(form));
  });
})();
