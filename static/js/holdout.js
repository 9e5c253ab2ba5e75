// The global-holdout report's two charts, from <canvas data-holdout-chart="rate|change"
// data-chart-source="id-of-a-json_script">: touched against held-out customers by month.
// Data and translated labels come from the page (json_script, data-label-*): no inline script.
(function () {
  function draw() {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-holdout-chart]").forEach(function (el) {
      const source = document.getElementById(el.dataset.chartSource);
      if (!source || window.Chart.getChart(el)) return;
      const d = JSON.parse(source.textContent);
      const rate = el.dataset.holdoutChart === "rate";
      new window.Chart(el, {
        type: rate ? "line" : "bar",
        data: {labels: d.labels, datasets: [
          {label: el.dataset.labelTouched, data: rate ? d.touched : d.touched_change, borderColor: "#8c1d18", backgroundColor: "#8c1d18", spanGaps: true},
          {label: el.dataset.labelHoldout, data: rate ? d.holdout : d.holdout_change, borderColor: "#6c757d", backgroundColor: "#6c757d", borderDash: [6, 4], spanGaps: true}
        ]},
        options: {animation: false, maintainAspectRatio: false, scales: {y: {beginAtZero: rate, title: {display: true, text: rate ? "%" : "¥"}}}}
      });
      el.dataset.rendered = "1";
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
