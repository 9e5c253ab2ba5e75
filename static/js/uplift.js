// The uplift model page's Qini curve: <canvas data-uplift-chart="qini" data-chart-source="id">,
// its data from the page's json_script block and its (translated) labels from data-label-*.
// No inline script (Content-Security-Policy).
(function () {
  function draw() {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-uplift-chart='qini']").forEach(function (el) {
      const source = document.getElementById(el.dataset.chartSource);
      if (!source || window.Chart.getChart(el)) return;
      const d = JSON.parse(source.textContent);
      if (!d.labels || !d.labels.length) return;
      new window.Chart(el, {
        type: "line",
        data: {labels: d.labels, datasets: [
          {label: el.dataset.labelModel, data: d.model, borderColor: "#8c1d18", backgroundColor: "rgba(140,29,24,.08)", fill: false, pointRadius: 2, borderWidth: 2},
          {label: el.dataset.labelRandom, data: d.random, borderColor: "#6c757d", borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5}
        ]},
        options: {animation: false, maintainAspectRatio: false,
                  scales: {x: {title: {display: true, text: el.dataset.labelX}},
                           y: {title: {display: true, text: el.dataset.labelY}}}}
      });
      el.dataset.rendered = "1";
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
