// Quiz attempt: shows the time left. The server enforces the deadline; this only informs, and
// submits the page just before time runs out so that the answers on it still arrive in time.
(function () {
  "use strict";
  var timer = document.getElementById("quiz-timer");
  if (!timer) { return; }
  var value = document.getElementById("quiz-timer-value");
  var deadline = Date.parse(timer.dataset.deadline);
  // The browser's clock may be wrong; measure against the server's clock instead.
  var offset = Date.parse(timer.dataset.serverNow) - Date.now();
  var warned = false;
  var submitted = false;

  function digits(text) {
    if (document.documentElement.lang !== "fa") { return text; }
    return text.replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[d]; });
  }

  function finish() {
    if (submitted) { return; }
    submitted = true;
    var form = document.getElementById("quiz-form");
    if (form && form.dataset.autoSubmit !== "true") {
      // One question per page: save this answer and finish.
      var go = document.createElement("input");
      go.type = "hidden";
      go.name = "go";
      go.value = "finish";
      form.appendChild(go);
    }
    if (form) { form.submit(); }
  }

  function tick() {
    var left = Math.max(0, Math.floor((deadline - (Date.now() + offset)) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    value.textContent = digits(minutes + ":" + (seconds < 10 ? "0" : "") + seconds);
    if (left <= 60 && !warned) {
      warned = true;
      timer.classList.replace("text-bg-warning", "text-bg-danger");
      timer.setAttribute("aria-live", "assertive");
      value.setAttribute("aria-label", timer.dataset.oneMinute);
    }
    if (left <= 1) {
      value.textContent = timer.dataset.timeUp;
      finish();
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
