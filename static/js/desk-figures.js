// Desk figures: Chart.js charts from the JSON data block of the page. No inline scripts (CSP).
(function () {
  "use strict";
  var source = document.getElementById("desk-figures-data");
  if (!source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var rtl = document.documentElement.dir === "rtl";
  var font = { family: "Vazirmatn, system-ui, sans-serif" };
  window.Chart.defaults.font.family = font.family;

  function bar(canvasId, labels, series) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || !labels.length) { return; }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: series.map(function (s) { return { label: data.titles[s], data: s === "csat" ? data.agents.csat : (data.agents[s] || data.kinds[s]) }; })
      },
      options: {
        responsive: true,
        locale: data.language === "fa" ? "fa-IR" : "en",
        plugins: { legend: { rtl: rtl, position: "bottom" } },
        scales: { x: { reverse: rtl }, y: { beginAtZero: true } }
      }
    });
  }

  bar("chart-agents", data.agents.labels, ["median_first_response", "median_resolution", "csat"]);
  bar("chart-kinds", data.kinds.labels, ["open", "breach_rate"]);
})();
