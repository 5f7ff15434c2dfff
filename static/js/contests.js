// Photo contest gallery: a keyboard-accessible lightbox (arrows move, Esc closes). No inline scripts (CSP).
(function () {
  "use strict";
  var modalEl = document.getElementById("lightbox");
  if (!modalEl || !window.bootstrap) { return; }
  var links = Array.prototype.slice.call(document.querySelectorAll("a.lightbox-link"));
  if (!links.length) { return; }
  var modal = window.bootstrap.Modal.getOrCreateInstance(modalEl);
  var image = document.getElementById("lightbox-image");
  var title = document.getElementById("lightbox-title");
  var current = 0;
  var opener = null;

  function show(index) {
    current = (index + links.length) % links.length;
    var link = links[current];
    var caption = link.dataset.caption || "";
    var author = link.dataset.author || "";
    image.src = link.getAttribute("href");
    image.alt = caption || author;
    title.textContent = caption ? caption + " — " + author : author;
  }

  links.forEach(function (link, index) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      opener = link;
      show(index);
      modal.show();
    });
  });

  function step(delta) {
    // In a right-to-left page the "next" arrow points left.
    var rtl = document.documentElement.dir === "rtl";
    return rtl ? -delta : delta;
  }

  document.getElementById("lightbox-prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("lightbox-next").addEventListener("click", function () { show(current + 1); });
  modalEl.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight") { show(current + step(1)); event.preventDefault(); }
    if (event.key === "ArrowLeft") { show(current + step(-1)); event.preventDefault(); }
  });
  modalEl.addEventListener("hidden.bs.modal", function () {
    if (opener) { opener.focus(); }
  });
})();
