// Forum pages live: new replies appear in an open topic, the topic list shows a "new topics" bar,
// counts follow. Replies are fetched as server-rendered fragments (the reader's language). No inline scripts.
(function () {
  "use strict";

  var socket = window.bashgah && window.bashgah.socket;
  if (!socket && window.io) {
    socket = window.io({ transports: ["websocket", "polling"] });
  }
  if (!socket) { return; }

  function toDigits(value) {
    var text = String(value);
    if (document.documentElement.lang === "fa") {
      return text.replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[d]; });
    }
    return text;
  }

  var posts = document.getElementById("posts");
  var live = document.getElementById("forum-live");

  function join() {
    if (posts) { socket.emit("forum:join", { topic_id: Number(posts.dataset.topicId) }); }
    if (live) { socket.emit("forum:join", { room: live.dataset.room }); }
  }
  socket.on("connect", join);
  if (socket.connected) { join(); }

  socket.on("forum:post", function (data) {
    if (!posts || Number(posts.dataset.topicId) !== data.topic_id) { return; }
    var count = document.getElementById("topic-reply-count");
    if (count) { count.textContent = toDigits(data.reply_count); }
    if (document.querySelector('[data-post-id="' + data.post_id + '"].forum-post')) { return; }
    if (posts.dataset.lastPage !== "true") {
      var bar = document.getElementById("new-replies-bar");
      if (bar) { bar.classList.remove("d-none"); }
      return;
    }
    var url = posts.dataset.fragmentUrl.replace(/\/0\/fragment$/, "/" + data.post_id + "/fragment");
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html || document.querySelector('[data-post-id="' + data.post_id + '"].forum-post')) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var article = holder.firstElementChild;
        if (!article) { return; }
        article.classList.add("forum-post-new");
        posts.appendChild(article);
        if (window.htmx) { window.htmx.process(article); }
      });
  });

  socket.on("forum:likes", function (data) {
    var link = document.querySelector('.forum-like-count[data-post-id="' + data.post_id + '"]');
    if (link) { link.textContent = toDigits(data.like_count); }
  });

  var pending = 0;
  socket.on("forum:topic", function (data) {
    var bar = document.getElementById("new-topics-bar");
    if (!bar) { return; }
    pending += 1;
    var link = document.getElementById("new-topics-link");
    var label = pending === 1 ? bar.dataset.labelOne : bar.dataset.labelMany.replace("__N__", toDigits(pending));
    link.textContent = label;
    link.setAttribute("href", window.location.pathname);
    bar.classList.remove("d-none");
  });

  socket.on("forum:counts", function (data) {
    var cell = document.querySelector('.forum-reply-count[data-topic-id="' + data.topic_id + '"]');
    if (cell) { cell.textContent = toDigits(data.reply_count); }
  });
})();
