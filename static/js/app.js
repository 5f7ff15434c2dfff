// Bashgah's page behaviour: CSRF for htmx, the live notification bell. No inline scripts (CSP).
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";

  // Every htmx request carries the CSRF token, like every form does.
  document.body.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken;
  });

  function toDigits(value) {
    var text = String(value);
    if (document.documentElement.lang === "fa") {
      return text.replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[d]; });
    }
    return text;
  }

  function setUnread(count) {
    var badge = document.getElementById("bell-count");
    if (!badge) { return; }
    badge.dataset.count = String(count);
    badge.textContent = toDigits(count);
    badge.classList.toggle("d-none", !count);
  }

  function showToast(text, url) {
    var container = document.getElementById("toasts");
    if (!container || !window.bootstrap) { return; }
    var toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("role", "status");
    var body = document.createElement("div");
    body.className = "toast-body";
    body.setAttribute("dir", "auto");
    if (url) {
      var link = document.createElement("a");
      link.href = url;
      link.textContent = text;
      body.appendChild(link);
    } else {
      body.textContent = text;
    }
    toast.appendChild(body);
    container.appendChild(toast);
    var instance = new window.bootstrap.Toast(toast, { delay: 6000 });
    toast.addEventListener("hidden.bs.toast", function () { toast.remove(); });
    instance.show();
  }

  window.bashgah = { setUnread: setUnread, socket: null };

  if (document.body.dataset.authenticated === "true" && window.io) {
    var socket = window.io({ transports: ["websocket", "polling"] });
    window.bashgah.socket = socket;
    socket.on("unread", function (data) { setUnread(data.unread); });
    socket.on("notification", function (data) {
      setUnread(data.unread);
      showToast(data.text, data.url);
      document.dispatchEvent(new CustomEvent("bashgah:notification", { detail: data }));
    });
    socket.on("moderation.queue", function (data) {
      // Moderators' navbar badge: the review queue's pending count, live.
      var badge = document.getElementById("mod-queue-count");
      if (!badge) { return; }
      badge.dataset.count = String(data.count);
      badge.textContent = toDigits(data.count);
      badge.classList.toggle("d-none", !data.count);
    });
    socket.on("connect", function () { document.body.dataset.live = "connected"; });
    socket.on("disconnect", function () { document.body.dataset.live = "disconnected"; });
  }
})();
