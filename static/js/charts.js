// Every chart of the workbench, drawn from a <canvas data-chart="kind"
// data-chart-source="id-of-a-json_script"> on load and after each htmx swap. The data and
// the (translated) labels come from the page's json_script block: no inline script.
(function () {
  function json(id) {
    const el = document.getElementById(id);
    if (!el) return null;
    let data = JSON.parse(el.textContent);
    if (typeof data === "string") data = JSON.parse(data);  // a JSON document passed as a string
    return data;
  }

  const armColours = ["#8c1d18", "#2f6fb0", "#3a9a6a", "#b07a2f", "#6f42c1", "#d63384", "#20c997", "#fd7e14"];
  const small = {animation: false, maintainAspectRatio: false, plugins: {legend: {display: false}}};

  const builders = {
    aum: function (d) {
      return {
        type: "line",
        data: {labels: d.labels, datasets: [{label: d.label, data: d.aum, borderColor: "#8c1d18", backgroundColor: "rgba(140,29,24,.08)", fill: true, pointRadius: 0, borderWidth: 2, tension: .2}]},
        options: {animation: false, responsive: true, maintainAspectRatio: false, plugins: {legend: {display: false}},
                  scales: {x: {ticks: {maxTicksLimit: 12}}, y: {ticks: {callback: function (v) { return v.toLocaleString(); }}}}}
      };
    },
    kpis: function (d) {
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
    },
    weekly: function (d) {
      return {
        type: "bar",
        data: {labels: d.labels, datasets: [
          {label: d.flags_label, data: d.flags, backgroundColor: "rgba(13,110,253,.6)"},
          {label: d.violations_label, data: d.violations, backgroundColor: "rgba(220,53,69,.8)"}
        ]},
        options: {responsive: true, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
      };
    },
    importance: function (d) {
      return {
        type: "bar",
        data: {labels: d.importance.map(function (r) { return r.feature; }), datasets: [{data: d.importance.map(function (r) { return r.importance; }), backgroundColor: "#2f6fb0"}]},
        options: Object.assign({}, small, {indexAxis: "y"})
      };
    },
    calibration: function (d, el) {
      const top = Math.max.apply(null, d.calibration.map(function (r) { return Math.max(r.predicted, r.observed); }).concat([0.1]));
      return {
        type: "scatter",
        data: {datasets: [
          {label: el.dataset.labelObserved, data: d.calibration.map(function (r) { return {x: r.predicted, y: r.observed}; }), showLine: true, borderColor: "#2f6fb0", backgroundColor: "#2f6fb0"},
          {label: el.dataset.labelPerfect, data: [{x: 0, y: 0}, {x: top, y: top}], showLine: true, borderDash: [4, 4], borderColor: "#999", pointRadius: 0}
        ]},
        options: Object.assign({}, small, {plugins: {legend: {display: true}}, scales: {
          x: {title: {display: true, text: el.dataset.labelPredicted}}, y: {title: {display: true, text: el.dataset.labelObserved}}}})
      };
    },
    // A campaign's results: the conversion rate of each arm (variants, control) by week of entry.
    results_weeks: function (d) {
      return {
        type: "line",
        data: {labels: d.weeks.labels, datasets: d.weeks.series.map(function (s, i) {
          const colour = s.control ? "#6c757d" : armColours[i % armColours.length];
          return {label: s.label, data: s.data, borderColor: colour, backgroundColor: colour, spanGaps: true, borderDash: s.control ? [6, 4] : []};
        })},
        options: {animation: false, maintainAspectRatio: false, scales: {y: {beginAtZero: true, title: {display: true, text: "%"}}}}
      };
    },
    // The funnel per step: customers of each arm who reached each step of the journey.
    results_funnel: function (d) {
      return {
        type: "bar",
        data: {labels: d.funnel.labels, datasets: d.funnel.series.map(function (s, i) {
          return {label: s.label, data: s.data, backgroundColor: s.control ? "rgba(108,117,125,.6)" : armColours[i % armColours.length]};
        })},
        options: {animation: false, maintainAspectRatio: false, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
      };
    },
    // The AUM uplift per customer at each horizon: the interval as a floating bar, the estimate as a point.
    results_aum: function (d, el) {
      const labels = d.aum.map(function (r) { return r.label; });
      return {
        data: {labels: labels, datasets: [
          {type: "bar", label: el.dataset.labelInterval, data: d.aum.map(function (r) { return [r.low, r.high]; }), backgroundColor: "rgba(47,111,176,.35)"},
          {type: "scatter", label: el.dataset.labelEstimate, data: d.aum.map(function (r, i) { return {x: labels[i], y: r.estimate}; }), backgroundColor: "#2f6fb0", pointRadius: 5}
        ]},
        options: {animation: false, maintainAspectRatio: false, scales: {x: {type: "category", labels: labels}, y: {title: {display: true, text: "¥"}}}}
      };
    },
    lift: function (d, el) {
      return {
        type: "bar",
        data: {labels: d.lift.map(function (_, i) { return (i + 1) * 10 + "%"; }), datasets: [{data: d.lift, backgroundColor: "#3a9a6a"}]},
        options: Object.assign({}, small, {scales: {y: {title: {display: true, text: el.dataset.labelLift}}}})
      };
    }
  };

  function draw(root) {
    if (!window.Chart) return;
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (el) {
      const build = builders[el.dataset.chart];
      const data = json(el.dataset.chartSource);
      if (!build || !data || window.Chart.getChart(el)) return;  // drawn already
      new window.Chart(el, build(data, el));
      el.dataset.rendered = "1";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
})();
