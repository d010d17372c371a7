"use strict";
// Small SVG plots for the job page: line/step charts, scatter plots, bars, parallel coordinates.
// Each function replaces the container's content with one <svg> sized by a viewBox.
const Plots = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const HEIGHT = 260;
  const MARGIN = {top: 14, right: 18, bottom: 40, left: 64};

  function node(tag, attrs, parent, text) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    if (parent) parent.appendChild(el);
    return el;
  }

  function frame(container, height = HEIGHT, margin = MARGIN) {
    const width = Math.max(360, container.clientWidth || 600);
    container.replaceChildren();
    const svg = node("svg", {viewBox: `0 0 ${width} ${height}`, role: "img"}, container);
    return {svg, width, height, margin, w: width - margin.left - margin.right, h: height - margin.top - margin.bottom};
  }

  function empty(container, message) {
    container.replaceChildren();
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = message;
    container.appendChild(p);
  }

  // A linear or log scale from the data's extent onto [r0, r1], with round tick values.
  function scale(values, r0, r1, allowLog = false) {
    let lo = Math.min(...values), hi = Math.max(...values);
    const log = allowLog && lo > 0 && hi / lo > 30;
    if (lo === hi) { lo -= Math.abs(lo) * 0.1 || 1; hi += Math.abs(hi) * 0.1 || 1; }
    const t = log ? Math.log10 : (v) => v;
    const [a, b] = log ? [t(lo), t(hi)] : [lo - (hi - lo) * 0.04, hi + (hi - lo) * 0.04];
    const f = (v) => r0 + (t(v) - a) / (b - a) * (r1 - r0);
    f.ticks = () => (log ? logTicks(lo, hi) : linearTicks(a, b));
    f.log = log;
    return f;
  }

  function linearTicks(lo, hi, count = 5) {
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
    return out;
  }

  function logTicks(lo, hi) {
    const out = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) { const v = m * Math.pow(10, e); if (v >= lo && v <= hi) out.push(v); }
    }
    return out.length >= 2 ? out : [lo, hi];
  }

  function fmt(v) {
    if (typeof v !== "number") return String(v);
    if (v === 0) return "0";
    const a = Math.abs(v);
    return a >= 1e5 || a < 1e-3 ? v.toExponential(1) : +v.toPrecision(4) + "";
  }

  function axes(f, x, y, xLabel, yLabel) {
    const g = node("g", {transform: `translate(${f.margin.left},${f.margin.top})`}, f.svg);
    const grid = node("g", {class: "grid"}, g);
    const axis = node("g", {class: "axis"}, g);
    for (const v of y.ticks()) {
      const py = y(v);
      node("line", {x1: 0, x2: f.w, y1: py, y2: py}, grid);
      node("text", {x: -6, y: py + 4, "text-anchor": "end"}, axis, fmt(v));
    }
    for (const v of x.ticks()) {
      const px = x(v);
      node("line", {x1: px, x2: px, y1: f.h, y2: f.h + 4}, axis);
      node("text", {x: px, y: f.h + 16, "text-anchor": "middle"}, axis, fmt(v));
    }
    node("line", {x1: 0, x2: f.w, y1: f.h, y2: f.h}, axis);
    node("line", {x1: 0, x2: 0, y1: 0, y2: f.h}, axis);
    node("text", {x: f.w / 2, y: f.h + 34, "text-anchor": "middle", class: "label"}, axis, xLabel);
    node("text", {transform: `translate(${-50},${f.h / 2}) rotate(-90)`, "text-anchor": "middle", class: "label"},
         axis, yLabel + (y.log ? " (log)" : ""));
    return g;
  }

  // Points [{x, y, title}] plus an optional step line through `line` points.
  function xy(container, {points, line, xLabel, yLabel, highlight}) {
    if (!points.length) return empty(container, "No successful trials yet.");
    const f = frame(container);
    const all = points.concat(line || []);
    const x = scale(all.map((p) => p.x), 0, f.w);
    const y = scale(all.map((p) => p.y), f.h, 0, true);
    const g = axes(f, x, y, xLabel, yLabel);
    for (const p of points) {
      const dot = node("circle", {cx: x(p.x), cy: y(p.y), r: 3.2, fill: p.color || "#9bb1e6",
                                  "fill-opacity": 0.85, class: "point"}, g);
      if (p.title) node("title", {}, dot, p.title);
    }
    if (line && line.length) {
      const d = line.map((p, i) => `${i ? "L" : "M"}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join("");
      node("path", {d, fill: "none", stroke: highlight || "#2c5fd6", "stroke-width": 2, class: "line"}, g);
      for (const p of line) node("circle", {cx: x(p.x), cy: y(p.y), r: 2.5, fill: highlight || "#2c5fd6"}, g);
    }
  }

  // Horizontal bars [{label, value}] with values in [0, 1].
  function bars(container, items, note) {
    if (!items.length) return empty(container, note || "Nothing to show yet.");
    const rowH = 24;
    const margin = {top: 6, right: 60, bottom: 6, left: 110};
    const f = frame(container, items.length * rowH + margin.top + margin.bottom, margin);
    const g = node("g", {transform: `translate(${margin.left},${margin.top})`}, f.svg);
    items.forEach((item, i) => {
      const yTop = i * rowH;
      node("text", {x: -8, y: yTop + 16, "text-anchor": "end"}, g, item.label);
      node("rect", {x: 0, y: yTop + 4, width: Math.max(1, item.value * f.w), height: rowH - 8, fill: "#2c5fd6",
                    rx: 2, class: "bar"}, g);
      node("text", {x: item.value * f.w + 6, y: yTop + 16}, g, (100 * item.value).toFixed(1) + "%");
    });
  }

  // One vertical axis per parameter plus the objective; one polyline per trial, the best in dark blue.
  function parallel(container, {axes: params, rows}, metric, minimize) {
    if (rows.length < 2 || !params.length) return empty(container, "Needs at least two successful trials.");
    const margin = {top: 22, right: 70, bottom: 30, left: 40};
    const f = frame(container, 300, margin);
    const g = node("g", {transform: `translate(${margin.left},${margin.top})`}, f.svg);
    const columns = params.length + 1;
    const colX = (i) => (i * f.w) / (columns - 1);
    const position = params.map((p) => {
      if (p.numeric && p.values.length > 1) {
        const s = scale(p.values, f.h, 0, true);
        return (v) => s(v);
      }
      const index = new Map(p.values.map((v, i) => [String(v), i]));
      return (v) => (p.values.length === 1 ? f.h / 2 : f.h - (index.get(String(v)) / (p.values.length - 1)) * f.h);
    });
    const values = rows.map((r) => r.value);
    const y = scale(values, f.h, 0, true);
    // Colour by rank, not value: one outlier must not wash every other line into the same colour.
    const ordered = rows.slice().sort((a, b) => (minimize ? b.value - a.value : a.value - b.value));  // best last, on top
    ordered.forEach((r, rank) => {
      const pts = params.map((p, i) => `${colX(i).toFixed(1)},${position[i](r.params[p.name]).toFixed(1)}`);
      pts.push(`${colX(columns - 1).toFixed(1)},${y(r.value).toFixed(1)}`);
      const q = rank / (ordered.length - 1);
      const line = node("polyline", {points: pts.join(" "), fill: "none", class: "pc-line",
                                     stroke: `hsl(${25 + q * 195}, ${45 + q * 30}%, ${70 - q * 32}%)`,
                                     "stroke-width": q > 0.98 ? 2.4 : 1.1, "stroke-opacity": 0.35 + 0.65 * q}, g);
      node("title", {}, line, `trial ${r.number}: ${metric} ${fmt(r.value)}`);
    });
    const axis = node("g", {class: "axis"}, g);
    params.forEach((p, i) => {
      node("line", {x1: colX(i), x2: colX(i), y1: 0, y2: f.h}, axis);
      node("text", {x: colX(i), y: -8, "text-anchor": "middle", class: "label"}, axis, p.name);
      const shown = p.values.length <= 8 ? p.values : [p.values[0], p.values[p.values.length - 1]];
      for (const v of shown) node("text", {x: colX(i) + 4, y: position[i](v) + 4}, axis, String(v));
    });
    const last = colX(columns - 1);
    node("line", {x1: last, x2: last, y1: 0, y2: f.h}, axis);
    node("text", {x: last, y: -8, "text-anchor": "middle", class: "label"}, axis, metric);
    for (const v of y.ticks()) node("text", {x: last + 4, y: y(v) + 4}, axis, fmt(v));
  }

  return {xy, bars, parallel, empty, fmt};
})();
