/* Switchboard dashboard charts: small SVG line and bar charts, written for this project
   (no third-party code, no network). window.SBCharts.line(...) and .bars(...) return an
   <svg> element. */
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2",
                  "#db2777", "#4b5563"];

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (step * power >= value) return step * power;
    }
    return 10 * power;
  }

  function frame(width, height, label) {
    const root = svg("svg", {
      viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": label,
      class: "chart",
    });
    root.appendChild(svg("title", {}, label));
    return root;
  }

  function axisY(root, box, max, unit) {
    for (let i = 0; i <= 4; i++) {
      const value = (max * i) / 4;
      const y = box.bottom - ((box.bottom - box.top) * i) / 4;
      root.appendChild(svg("line", { x1: box.left, x2: box.right, y1: y, y2: y, class: "grid" }));
      root.appendChild(svg("text", { x: box.left - 6, y: y + 4, "text-anchor": "end",
                                     class: "tick" }, `${+value.toFixed(2)}${unit || ""}`));
    }
  }

  /* series: [{name, points: [[xIndex, value], ...]}], xLabels: [string] */
  function line(series, xLabels, opts) {
    const o = Object.assign({ width: 760, height: 260, label: "chart", unit: "" }, opts);
    const root = frame(o.width, o.height + 24 * Math.ceil(series.length / 4), o.label);
    const box = { left: 52, right: o.width - 12, top: 12, bottom: o.height - 28 };
    const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1]))));
    axisY(root, box, max, o.unit);
    const n = Math.max(1, xLabels.length - 1);
    const x = (i) => box.left + ((box.right - box.left) * i) / n;
    const y = (v) => box.bottom - ((box.bottom - box.top) * v) / max;
    const every = Math.max(1, Math.ceil(xLabels.length / 8));
    xLabels.forEach((text, i) => {
      if (i % every === 0 || i === xLabels.length - 1) {
        root.appendChild(svg("text", { x: x(i), y: box.bottom + 16, "text-anchor": "middle",
                                       class: "tick" }, text));
      }
    });
    series.forEach((s, k) => {
      const color = COLORS[k % COLORS.length];
      const d = s.points.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
        .join(" ");
      if (s.points.length > 1) {
        root.appendChild(svg("path", { d, fill: "none", stroke: color, "stroke-width": 2,
                                       class: "series", "data-name": s.name }));
      }
      for (const p of s.points) {
        root.appendChild(svg("circle", { cx: x(p[0]), cy: y(p[1]), r: 2.5, fill: color }));
      }
      const lx = box.left + (k % 4) * ((box.right - box.left) / 4);
      const ly = o.height + 8 + 22 * Math.floor(k / 4);
      root.appendChild(svg("rect", { x: lx, y: ly - 9, width: 10, height: 10, fill: color }));
      root.appendChild(svg("text", { x: lx + 14, y: ly, class: "legend" }, s.name));
    });
    return root;
  }

  /* bars: [{name, value}] drawn horizontally, longest first */
  function bars(items, opts) {
    const o = Object.assign({ width: 760, label: "chart", unit: "" }, opts);
    const rowH = 24;
    const height = 20 + rowH * Math.max(1, items.length);
    const root = frame(o.width, height, o.label);
    const left = 230;
    const right = o.width - 70;
    const max = niceMax(Math.max(0, ...items.map((i) => i.value || 0)));
    items.forEach((item, k) => {
      const y = 10 + k * rowH;
      const w = ((right - left) * (item.value || 0)) / max;
      root.appendChild(svg("text", { x: left - 8, y: y + 15, "text-anchor": "end",
                                     class: "legend" }, item.name));
      root.appendChild(svg("rect", { x: left, y: y + 3, width: Math.max(1, w), height: rowH - 8,
                                     fill: COLORS[k % COLORS.length], class: "bar",
                                     "data-name": item.name }));
      root.appendChild(svg("text", { x: left + w + 6, y: y + 15, class: "tick" },
                           `${item.value === null ? "–" : item.value}${o.unit}`));
    });
    return root;
  }

  window.SBCharts = { line, bars };
})();
