// Draws every <canvas data-chart="ID"> from the JSON in <script type="application/json" id="ID">.
// The JSON is {"type": "line"|"bar", "labels": [...], "datasets": [{"label": "...", "data": [...]}],
// "y_format": "money"|"percent"|"number", "currency": "USD"}. Pages always show the same
// numbers in a table next to the chart; the chart is the picture, the table is the record.
(function () {
  "use strict";
  var palette = ["#e4405f", "#2563eb", "#16a34a", "#d97706", "#7c3aed", "#0891b2"];

  function formatter(spec) {
    var locale = document.documentElement.lang || "en";
    if (spec.y_format === "money") {
      var money = new Intl.NumberFormat(locale, {
        style: "currency", currency: spec.currency || "USD", maximumFractionDigits: 0
      });
      return function (v) { return money.format(v); };
    }
    if (spec.y_format === "percent") {
      return function (v) { return (v * 100).toFixed(1) + "%"; };
    }
    var num = new Intl.NumberFormat(locale);
    return function (v) { return num.format(v); };
  }

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") { return; }
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) { return; }
    var spec = JSON.parse(source.textContent || "{}");
    var fmt = formatter(spec);
    var datasets = (spec.datasets || []).map(function (d, i) {
      var colour = d.color || palette[i % palette.length];
      return Object.assign({
        borderColor: colour,
        backgroundColor: spec.type === "bar" ? colour : colour + "22",
        borderWidth: 2,
        pointRadius: 2,
        tension: 0.25,
        fill: false
      }, d);
    });
    canvas.dataset.drawn = "1";
    new Chart(canvas, {
      type: spec.type || "line",
      data: { labels: spec.labels || [], datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) { return ctx.dataset.label + ": " + fmt(ctx.parsed.y); }
            }
          }
        },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
          y: { beginAtZero: true, ticks: { callback: function (v) { return fmt(v); } } }
        }
      }
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
})();
