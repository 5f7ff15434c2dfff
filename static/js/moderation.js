// The review queue's keyboard shortcuts: j/k move between items, a/h/d approve/hide/delete, ? shows help.
(function () {
  "use strict";

  var items = Array.prototype.slice.call(document.querySelectorAll(".queue-item"));
  var help = document.getElementById("queue-help");
  var helpToggle = document.getElementById("queue-help-toggle");
  var current = -1;

  function toggleHelp() {
    if (!help) { return; }
    var hidden = help.classList.toggle("d-none");
    if (helpToggle) { helpToggle.setAttribute("aria-expanded", hidden ? "false" : "true"); }
  }

  function select(index) {
    if (!items.length) { return; }
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach(function (item, i) { item.classList.toggle("queue-item-current", i === current); });
    items[current].focus();
    items[current].scrollIntoView({ block: "nearest" });
  }

  function act(shortcut) {
    if (current < 0) { select(0); }
    var button = items[current] && items[current].querySelector('[data-shortcut="' + shortcut + '"]');
    if (button) { button.click(); }
  }

  if (helpToggle) { helpToggle.addEventListener("click", toggleHelp); }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable)) { return; }
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "a": case "h": case "d": act(event.key); break;
      case "?": toggleHelp(); break;
      default: return;
    }
    event.preventDefault();
  });
})();
