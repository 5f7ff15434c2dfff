// Live quiz: joins the session's room, shows each pushed question, sends the answer, shows the reveal
// and the scores. The server decides what counts; nothing here knows the right answer before the reveal.
(function () {
  "use strict";
  var root = document.getElementById("live-quiz");
  if (!root || !window.bashgah || !window.bashgah.socket) { return; }
  var socket = window.bashgah.socket;
  var session = Number(root.dataset.session);
  var isHost = root.dataset.role === "host";
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var timerHandle = null;
  var chosen = {};  // question id -> option id this player picked, to show it at the reveal

  function digits(text) {
    if (document.documentElement.lang !== "fa") { return String(text); }
    return String(text).replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[d]; });
  }

  function byId(id) { return document.getElementById(id); }

  function renderBoard(rows) {
    var board = byId("live-board");
    if (!board || !rows) { return; }
    board.textContent = "";
    rows.forEach(function (row) {
      var item = document.createElement("li");
      item.className = "list-group-item d-flex justify-content-between";
      var name = document.createElement("span");
      name.setAttribute("dir", "auto");
      name.textContent = row.name;
      var score = document.createElement("span");
      score.textContent = digits(row.right) + " " + root.dataset.rightLabel;
      item.appendChild(name);
      item.appendChild(score);
      board.appendChild(item);
    });
  }

  function countdown(seconds) {
    var timer = byId("live-timer");
    if (timerHandle) { window.clearInterval(timerHandle); }
    if (!timer) { return; }
    var left = seconds;
    timer.textContent = digits(left) + " " + root.dataset.secondsLabel;
    timerHandle = window.setInterval(function () {
      left = Math.max(0, left - 1);
      timer.textContent = digits(left) + " " + root.dataset.secondsLabel;
      if (left === 0) { window.clearInterval(timerHandle); }
    }, 1000);
  }

  function stopTimer() {
    if (timerHandle) { window.clearInterval(timerHandle); timerHandle = null; }
    var timer = byId("live-timer");
    if (timer) { timer.textContent = ""; }
  }

  function send(questionId, optionIds, buttons) {
    chosen[questionId] = optionIds[0];
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(root.dataset.answerUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ question: questionId, options: optionIds })
    }).then(function (response) {
      return response.json().then(function (body) {
        byId("live-feedback").textContent = response.ok ? body.message : body.error.message;
      });
    }).catch(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  }

  function renderPlayer(state) {
    var question = byId("live-question");
    var options = byId("live-options");
    var progress = byId("live-progress");
    options.textContent = "";
    if (state.index >= 0 && state.index < state.count) {
      progress.textContent = root.dataset.questionLabel + " " + digits(state.index + 1) + "/" + digits(state.count);
    }
    if (state.status !== "question") { stopTimer(); }
    if (state.status === "finished") {
      question.textContent = root.dataset.finished;
    } else if (!state.question) {
      question.textContent = root.dataset.waiting;
    } else {
      question.textContent = state.question.text;
      var buttons = [];
      state.question.options.forEach(function (option) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-outline-primary text-start";
        button.setAttribute("dir", "auto");
        button.textContent = option.text;
        button.dataset.option = String(option.id);
        if (state.status === "reveal") {
          button.disabled = true;
          if (state.right_ids.indexOf(option.id) !== -1) {
            button.className = "btn btn-success text-start";
          } else if (chosen[state.question.id] === option.id) {
            button.className = "btn btn-danger text-start";
          }
        } else {
          button.addEventListener("click", function () { send(state.question.id, [option.id], buttons); });
        }
        buttons.push(button);
        options.appendChild(button);
      });
      if (state.status === "question") {
        byId("live-feedback").textContent = "";
        countdown(state.seconds_left);
      }
    }
    if (state.scoreboard) { renderBoard(state.scoreboard); }
  }

  socket.on("live_quiz.state", function (state) {
    if (state.session !== session) { return; }
    if (isHost) { return; }  // the host page changes by its own forms; it only counts answers live
    renderPlayer(state);
  });
  socket.on("live_quiz.answers", function (data) {
    var count = byId("live-answer-count");
    if (count) { count.textContent = digits(data.count); }
  });
  function join() { socket.emit("live_quiz.join", { session: session }); }
  if (socket.connected) { join(); }
  socket.on("connect", join);
})();
