// Draws the dashboard's two charts from the JSON the server embedded in the page (no inline script).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var red = "#b71c1c", grey = "#607d8b";

  function shortName(name) {
    return name.length > 28 ? name.slice(0, 27) + "…" : name;
  }

  function dayMonth(iso) {
    var parts = iso.split("-");
    return parts[2] + "/" + parts[1];
  }

  var withCompletions = data.agencies.filter(function (a) { return a.on_time_rate !== null; });
  new Chart(document.getElementById("on-time-chart"), {
    type: "bar",
    data: {
      labels: withCompletions.map(function (a) { return shortName(a.agency_name); }),
      datasets: [{
        label: "Tỷ lệ đúng hạn (%)",
        data: withCompletions.map(function (a) { return Math.round(a.on_time_rate * 1000) / 10; }),
        backgroundColor: withCompletions.map(function (a) { return a.on_time_rate >= 0.95 ? grey : red; }),
        maxBarThickness: 28
      }]
    },
    options: {
      indexAxis: "y", maintainAspectRatio: false, animation: false,
      scales: { x: { min: 0, max: 100, ticks: { callback: function (v) { return v + " %"; } } } },
      plugins: { legend: { display: false } }
    }
  });

  new Chart(document.getElementById("weekly-chart"), {
    type: "line",
    data: {
      labels: data.weeks.map(function (w) { return "Tuần " + dayMonth(w.week_start); }),
      datasets: [
        { label: "Tiếp nhận", data: data.weeks.map(function (w) { return w.received; }), borderColor: grey,
          backgroundColor: grey, tension: 0.2 },
        { label: "Đã giải quyết", data: data.weeks.map(function (w) { return w.completed; }), borderColor: red,
          backgroundColor: red, tension: 0.2 }
      ]
    },
    options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  document.body.dataset.chartsReady = "true";
})();
