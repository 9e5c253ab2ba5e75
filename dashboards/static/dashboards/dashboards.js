// The dashboards' charts, drawn from <canvas data-chart="dash_*" data-chart-source="id">
// with the data and translated labels of the page's json_script block (no inline script),
// on load and after each htmx swap.
(function () {
  const colours = ["#8c1d18", "#c0504d", "#2f6fb0", "#3a9a6a", "#e0a030", "#6f42c1", "#198754"];

  function json(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  const builders = {
    dash_funnel: function (d) {
      return {
        type: "line",
        data: {labels: d.labels, datasets: d.series.map(function (s, i) {
          return {label: s.label, data: s.data, borderColor: colours[i % colours.length], backgroundColor: colours[i % colours.length], pointRadius: 2, tension: .2};
        })},
        options: {animation: false, maintainAspectRatio: false, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
      };
    },
    dash_ops: function (d) {
      return {
        data: {
          labels: d.labels,
          datasets: [
            {type: "bar", label: d.names.dialled, data: d.dialled, yAxisID: "y1", backgroundColor: "rgba(140,29,24,.25)"},
            {type: "line", label: d.names.execution, data: d.execution, yAxisID: "y", borderColor: "#0d6efd", spanGaps: true},
            {type: "line", label: d.names.effective, data: d.effective, yAxisID: "y", borderColor: "#198754", spanGaps: true},
            {type: "line", label: d.names.target + " " + d.target + "%", data: d.labels.map(function () { return d.target; }), yAxisID: "y", borderColor: "#dc3545", borderDash: [6, 4], pointRadius: 0}
          ]
        },
        options: {maintainAspectRatio: false, animation: false, scales: {y: {min: 0, max: 100, title: {display: true, text: "%"}}, y1: {position: "right", grid: {drawOnChartArea: false}, beginAtZero: true}}}
      };
    }
  };

  function draw() {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-chart^='dash_']").forEach(function (el) {
      const build = builders[el.dataset.chart];
      const data = json(el.dataset.chartSource);
      if (!build || !data || window.Chart.getChart(el)) return;
      new window.Chart(el, build(data));
      el.dataset.rendered = "1";
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
