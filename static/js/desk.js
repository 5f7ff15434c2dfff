// Help desk pages: a live notice when a ticket the agent watches changes (Socket.IO). No inline scripts (CSP).
(function () {
  "use strict";
  var notice = document.getElementById("desk-live");
  if (!notice || !window.bashgah || !window.bashgah.socket) { return; }
  var current = document.getElementById("desk-ticket");
  var currentCode = current ? current.dataset.ticketCode : null;
  var inbox = document.getElementById("inbox-table");

  window.bashgah.socket.on("ticket.updated", function (data) {
    if (currentCode && data.code !== currentCode) { return; }
    if (!currentCode && !inbox) { return; }
    notice.textContent = "";
    var text = document.createElement("span");
    text.textContent = notice.dataset.message.replace("__CODE__", data.code) + " ";
    var link = document.createElement("a");
    link.href = currentCode ? window.location.pathname : window.location.href;
    link.textContent = notice.dataset.reload;
    notice.appendChild(text);
    notice.appendChild(link);
    notice.classList.remove("d-none");
    if (currentCode) { refreshConversation(); }
    document.dispatchEvent(new CustomEvent("bashgah:ticket-updated", { detail: data }));
  });

  // The open ticket's conversation is fetched again (the socket carries no message text) and
  // swapped in, so a customer's reply appears without a reload; the forms are left as typed.
  function refreshConversation() {
    var conversation = document.getElementById("desk-conversation");
    if (!conversation || !window.fetch || !window.DOMParser) { return; }
    window.fetch(window.location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("desk-conversation");
        if (fresh) { conversation.replaceChildren.apply(conversation, Array.prototype.slice.call(fresh.childNodes)); }
      })
      .catch(function () { /* the notice's reload link still works */ });
  }
})();
