// uPlot (vendored, ui/uplot.min.js) set up for the explorer: the stacked
// log volume histogram and the metric time series chart, in the theme's
// colours, resized with their box.
import { levelColor, themeColor } from "./levels.js";

// uPlot is loaded when the first chart is drawn, not with the page: the page
// is ready sooner, and a chart waits for its data anyway.
let loading = null;
function uplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!loading)
    loading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/ui/uplot.min.js";
      s.onload = () => resolve(window.uPlot);
      s.onerror = () => { loading = null; reject(new Error("could not load uPlot")); };
      document.head.append(s);
    });
  return loading;
}

function axes() {
  const c = themeColor("dim"), g = themeColor("line");
  const ax = { stroke: c, grid: { stroke: g, width: 1 }, ticks: { stroke: g, width: 1 } };
  return [Object.assign({}, ax), Object.assign({ size: 50 }, ax)];
}

function fit(el, plot, height) {
  const ro = new ResizeObserver(() =>
    plot.setSize({ width: el.clientWidth, height: height || Math.max(200, el.clientHeight - 40) }));
  ro.observe(el);
  return ro;
}

export class Chart {
  constructor(el) { this.el = el; this.plot = null; this.ro = null; }
  destroy() {
    if (this.ro) this.ro.disconnect();
    if (this.plot) this.plot.destroy();
    this.plot = this.ro = null;
    this.el.textContent = "";
  }

  // xs: seconds; groups: [{name, level, values}] stacked in that order.
  // onZoom(fromMs, toMs) when a range is dragged.
  async histogram(xs, groups, onZoom) {
    const uPlot = await uplot();
    this.destroy();
    const cum = [];
    let acc = xs.map(() => 0);
    for (const g of groups) { acc = acc.map((v, i) => v + (g.values[i] || 0)); cum.push(acc); }
    const order = groups.map((_, i) => i).reverse(); // tallest first, lower stacks drawn over
    const bars = uPlot.paths.bars({ size: [0.9, 40], align: 0 });
    const series = [{}].concat(order.map((i) => ({
      label: groups[i].name, fill: levelColor(groups[i].level), stroke: levelColor(groups[i].level),
      width: 0, paths: bars, points: { show: false },
      value: (u, v, si, idx) => (idx == null ? "" : String(groups[i].values[idx] || 0)),
    })));
    const opts = {
      width: this.el.clientWidth, height: 140, series, axes: axes(),
      legend: { show: true, live: false },
      cursor: { drag: { x: true, y: false }, points: { show: false } },
      scales: { x: { time: true } },
      hooks: { setSelect: [(u) => {
        if (u.select.width < 3) return;
        const a = u.posToVal(u.select.left, "x"), b = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({ width: 0, height: 0 }, false);
        onZoom(Math.round(a * 1000), Math.round(b * 1000));
      }] },
    };
    this.plot = new uPlot(opts, [xs].concat(order.map((i) => cum[i])), this.el);
    this.ro = fit(this.el, this.plot, 140);
  }

  // series: [{name, values}] over xs (seconds); the legend toggles them.
  async lines(xs, series) {
    const uPlot = await uplot();
    this.destroy();
    const palette = ["#2f6fde", "#e8743b", "#19a979", "#ed4a7b", "#945ecf", "#13a4b4",
      "#525df4", "#bf399e", "#6c8893", "#ee6868"];
    const opts = {
      width: this.el.clientWidth, height: Math.max(240, this.el.clientHeight - 40), axes: axes(),
      series: [{}].concat(series.map((s, i) => ({
        label: s.name, stroke: palette[i % palette.length], width: 1.5, spanGaps: false,
      }))),
      scales: { x: { time: true } },
      legend: { show: true },
    };
    this.plot = new uPlot(opts, [xs].concat(series.map((s) => s.values)), this.el);
    this.ro = fit(this.el, this.plot);
  }
}
