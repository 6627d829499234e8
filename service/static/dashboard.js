// The district chart, drawn from the figures the page carries (the table beside it holds the same).
(function () {
  var canvas = document.getElementById("district-chart");
  if (!canvas || !window.Chart) return;
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var names = JSON.parse(document.getElementById("chart-labels").textContent);
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: names.complete, data: data.complete, backgroundColor: "#1a6b34" },
        { label: names.incomplete, data: data.incomplete, backgroundColor: "#d99a00" },
        { label: names.no_records, data: data.no_records, backgroundColor: "#a1161f" }
      ]
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
    }
  });
})();
