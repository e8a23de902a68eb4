// `/markets/<code>/`: candlesticks (Lightweight Charts) with volume, MAs and Bollinger bands, cross
// markers, RSI and MACD panes; the order book, the trade tape, 24 h stats, the prediction and alerts.
// Every value drawn comes from the API as it answered; the live ticker only moves the newest candle.
import * as api from "./api.js";
import { $, age, amount, clock, COLORS, compact, direction, el, message, percent, poll, price, priceDigits, readState, utc, writeState } from "./ui.js";

const LWC = window.LightweightCharts;
const head = $(".market-head");
const MARKET = head.dataset.market;
const DEFAULTS = { interval: "1d", ma: "1", bb: "1" };
const state = readState(DEFAULTS);
if (!api.INTERVALS.includes(state.interval)) state.interval = DEFAULTS.interval;
const LIMIT = { "1m": 300, "1h": 300, "1d": 365 };
const MA_COLORS = { ma_5: "#e8890c", ma_20: "#2a9d5c", ma_60: "#7b4fd0", ma_120: "#6b7280" };
const BB_COLOR = "#8aa4c8";
const notes = [];
const sec = (ms) => Math.floor(ms / 1000);

// Test and measurement hooks (read by the browser tests; harmless otherwise).
const probe = (window.cryptoflow = { market: MARKET, interval: state.interval, apiCandles: null, markers: [], chart: null, candles: null });

// --- controls (view state in the URL) ----------------------------------------------------------------
$("#intervals").replaceChildren(
  ...api.INTERVALS.map((interval) => {
    const params = new URLSearchParams(location.search);
    params.set("interval", interval);
    return el("a", { href: `?${params}`, "aria-current": String(interval === state.interval), text: interval });
  }),
);
for (const box of document.querySelectorAll("#toggles input")) {
  box.checked = state[box.name] === "1";
  box.addEventListener("change", () => {
    state[box.name] = box.checked ? "1" : "0";
    writeState(state, DEFAULTS);
    applyToggles();
  });
}

// --- chart -------------------------------------------------------------------------------------------
const container = $("#chart");
const chart = LWC.createChart(container, {
  autoSize: true,
  layout: { background: { type: "solid", color: "#ffffff" }, textColor: COLORS.text, fontSize: 12, attributionLogo: true, panes: { separatorColor: "#d6dae1" } },
  grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
  crosshair: { mode: LWC.CrosshairMode.Normal },
  rightPriceScale: { borderColor: "#d6dae1" },
  timeScale: { borderColor: "#d6dae1", timeVisible: state.interval !== "1d", secondsVisible: false },
  localization: {
    timeFormatter: (t) => utc(t * 1000).slice(0, state.interval === "1d" ? 10 : 16),
    priceFormatter: (p) => p.toLocaleString("en-US", { maximumFractionDigits: Math.abs(p) >= 1000 ? 0 : 8 }),
  },
});
probe.chart = chart;
const candles = chart.addSeries(LWC.CandlestickSeries, {
  upColor: COLORS.rise, downColor: COLORS.fall, borderVisible: false, wickUpColor: COLORS.rise, wickDownColor: COLORS.fall,
});
probe.candles = candles;
const volume = chart.addSeries(LWC.HistogramSeries, { priceFormat: { type: "volume" }, priceScaleId: "volume", lastValueVisible: false, priceLineVisible: false });
volume.priceScale().applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });
candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
const markers = LWC.createSeriesMarkers(candles, []);
const overlays = { ma: [], bb: [] };

const byTime = new Map(); // seconds -> {candle (API strings), row (indicator API strings)}

function seriesFor(kind, name, color, pane = 0, options = {}) {
  const series = chart.addSeries(LWC.LineSeries, { color, lineWidth: 1.5, lastValueVisible: false, priceLineVisible: false, crosshairMarkerVisible: false, title: name.replace("_", " ").toUpperCase(), ...options }, pane);
  if (kind) overlays[kind].push(series);
  return series;
}

function applyToggles() {
  for (const [kind, list] of Object.entries(overlays)) for (const series of list) series.applyOptions({ visible: state[kind] === "1" });
}

function column(rows, name) {
  const points = rows.filter((row) => row[name] !== null && row[name] !== undefined).map((row) => ({ time: sec(row.time), value: Number(row[name]) }));
  return points;
}

function drawIndicators(rows) {
  const present = (name) => rows.some((row) => row[name] !== null && row[name] !== undefined);
  for (const name of api.INDICATOR_LINES.ma) if (present(name)) seriesFor("ma", name, MA_COLORS[name]).setData(column(rows, name));
  const bands = api.INDICATOR_LINES.bollinger.filter(present);
  if (bands.length) for (const name of bands) seriesFor("bb", name, BB_COLOR, 0, { lineStyle: name === "bb_middle" ? 2 : 0 }).setData(column(rows, name));
  else notes.push("Bollinger bands: not in this API's indicators yet.");
  if (present(api.INDICATOR_LINES.rsi)) {
    const rsi = seriesFor(null, api.INDICATOR_LINES.rsi, "#7b4fd0", 1, { lastValueVisible: true, priceFormat: { type: "price", precision: 2, minMove: 0.01 } });
    rsi.setData(column(rows, api.INDICATOR_LINES.rsi));
    for (const level of [70, 30]) rsi.createPriceLine({ price: level, color: "#b7bcc6", lineStyle: 2, lineWidth: 1, axisLabelVisible: true, title: "" });
  } else notes.push("RSI: no values for this market yet.");
  const [macdName, signalName, histName] = api.INDICATOR_LINES.macd;
  if (present(macdName)) {
    const pane = present(api.INDICATOR_LINES.rsi) ? 2 : 1;
    if (present(histName)) {
      chart.addSeries(LWC.HistogramSeries, { lastValueVisible: false, priceLineVisible: false, title: "MACD hist" }, pane).setData(
        column(rows, histName).map((p) => ({ ...p, color: p.value >= 0 ? "rgba(200,74,49,.45)" : "rgba(18,97,196,.45)" })),
      );
    }
    seriesFor(null, macdName, "#1b2230", pane).setData(column(rows, macdName));
    if (present(signalName)) seriesFor(null, signalName, "#e8890c", pane).setData(column(rows, signalName));
  } else notes.push("MACD: not in this API's indicators yet.");
  for (const [index, pane] of chart.panes().entries()) if (index > 0) pane.setHeight(90);
  applyToggles();
}

function drawMarkers(signalRows) {
  const crosses = signalRows
    .filter((s) => (s.kind === "golden_cross" || s.kind === "dead_cross") && s.interval === state.interval && byTime.has(sec(s.candle_start)))
    .sort((a, b) => a.candle_start - b.candle_start);
  const list = crosses.map((s) =>
    s.kind === "golden_cross"
      ? { time: sec(s.candle_start), position: "belowBar", color: "#b8860b", shape: "arrowUp", text: `Golden MA${s.short_window}/${s.long_window}` }
      : { time: sec(s.candle_start), position: "aboveBar", color: "#334155", shape: "arrowDown", text: `Dead MA${s.short_window}/${s.long_window}` },
  );
  markers.setMarkers(list);
  probe.markers = list;
  return crosses;
}

function tooltip(param) {
  const box = $("#tooltip");
  const time = param?.time ?? [...byTime.keys()].at(-1);
  const entry = byTime.get(time);
  if (!entry) {
    box.textContent = "";
    return;
  }
  const { candle, row } = entry;
  const parts = [el("b", { text: utc(time * 1000).slice(0, state.interval === "1d" ? 10 : 16) })];
  const add = (label, value, cls, optional = false) =>
    value !== null && value !== undefined && parts.push(el("span", { class: optional ? "opt" : undefined }, el("span", { class: "k", text: label }), el("span", { class: cls, text: value })));
  const cls = direction(Number(candle.trade_price) - Number(candle.opening_price));
  add("O", price(candle.opening_price), cls);
  add("H", price(candle.high_price), cls);
  add("L", price(candle.low_price), cls);
  add("C", price(candle.trade_price), cls);
  add("Vol", candle.volume === undefined ? null : compact(candle.volume));
  if (row) {
    for (const name of api.INDICATOR_LINES.ma) add(name.replace("ma_", "MA"), row[name] === undefined || row[name] === null ? null : price(row[name]), undefined, true);
    add("RSI", row.rsi_14);
    add("MACD", row.macd, undefined, true);
  }
  box.replaceChildren(...parts);
}

function notice(text) {
  container.querySelector(".notice")?.remove();
  if (text) container.append(el("div", { class: "notice", role: "status", text }));
}

async function drawChart() {
  const [candleAnswer, indicatorAnswer, signalAnswer] = await Promise.all([
    api.candles(MARKET, state.interval, LIMIT[state.interval]),
    api.indicators(MARKET, state.interval, LIMIT[state.interval]),
    api.signals(MARKET, state.interval),
  ]);
  if (!candleAnswer.ok) {
    notice(`No ${state.interval} chart: ${candleAnswer.message}`);
    probe.apiCandles = 0;
  } else if (!candleAnswer.data.candles.length) {
    notice(`No ${state.interval} candles for ${MARKET} yet. Try another interval.`);
    probe.apiCandles = 0;
  } else {
    const rows = candleAnswer.data.candles;
    probe.apiCandles = rows.length;
    const digits = Math.max(...rows.slice(-20).map((c) => priceDigits(c.trade_price)));
    candles.applyOptions({ priceFormat: { type: "price", precision: digits, minMove: 10 ** -digits } });
    for (const c of rows) byTime.set(sec(c.candle_start), { candle: c, row: null });
    candles.setData(rows.map((c) => ({ time: sec(c.candle_start), open: Number(c.opening_price), high: Number(c.high_price), low: Number(c.low_price), close: Number(c.trade_price) })));
    volume.setData(rows.map((c) => ({ time: sec(c.candle_start), value: Number(c.volume), color: Number(c.trade_price) >= Number(c.opening_price) ? "rgba(200,74,49,.35)" : "rgba(18,97,196,.35)" })));
    chart.timeScale().fitContent();
  }
  if (indicatorAnswer.ok) {
    for (const row of indicatorAnswer.data) if (byTime.has(sec(row.time))) byTime.get(sec(row.time)).row = row;
    drawIndicators(indicatorAnswer.data);
  } else notes.push(`Indicators: ${indicatorAnswer.message}`);
  const crosses = signalAnswer.ok ? drawMarkers(api.results(signalAnswer.data)) : [];
  if (!signalAnswer.ok) notes.push(`Cross markers: ${signalAnswer.message}`);
  else notes.push(`${crosses.length} MA cross${crosses.length === 1 ? "" : "es"} on this chart.`);
  if (state.interval === "1d") notes.push("Daily candles are closed UTC days; the newest one is today's, live from the ticker.");
  $("#chart-notes").textContent = notes.join(" ");
  chart.subscribeCrosshairMove(tooltip);
  tooltip(null);
  requestAnimationFrame(() => {
    performance.mark("first-chart");
    container.dataset.ready = "1";
  });
  renderSignals(signalAnswer.ok ? api.results(signalAnswer.data) : null);
}

// The live ticker moves the newest candle (or opens the next one); no other value is derived.
function liveCandle(t) {
  if (!probe.apiCandles) return;
  const last = candles.data().at(-1);
  const close = Number(t.trade_price);
  if (state.interval === "1d") {
    const today = sec(Math.floor(t.trade_timestamp / 86_400_000) * 86_400_000);
    if (today < last.time) return;
    candles.update({ time: today, open: Number(t.opening_price ?? t.trade_price), high: Number(t.high_price ?? t.trade_price), low: Number(t.low_price ?? t.trade_price), close });
    return;
  }
  const bucket = sec(Math.floor(t.trade_timestamp / api.intervalMs(state.interval)) * api.intervalMs(state.interval));
  if (bucket < last.time) return;
  if (bucket === last.time) candles.update({ ...last, high: Math.max(last.high, close), low: Math.min(last.low, close), close });
  else candles.update({ time: bucket, open: close, high: close, low: close, close });
}

// --- live panels -------------------------------------------------------------------------------------
async function refreshTicker() {
  const answer = await api.ticker(MARKET);
  if (!answer.ok) {
    $("#last").textContent = "—";
    $("#live-age").textContent = answer.status === 404 ? "no live ticker for this market" : answer.message;
    return;
  }
  const t = answer.data;
  const moving = direction(t.signed_change_rate);
  $("#last").textContent = price(t.trade_price);
  $("#last").className = `last ${moving}`;
  $("#change").replaceChildren(el("span", { class: moving, text: `${percent(t.signed_change_rate)} (${price(t.signed_change_price)})` }));
  $("#live-age").textContent = `live · ${age(t.age_ms)} old${t.age_ms >= api.STALE_AFTER_MS ? " (stale)" : ""}`;
  const stat = (label, value) => [el("dt", { text: label }), el("dd", { text: value })];
  $("#stats").replaceChildren(
    el("dl", { class: "stats" },
      ...stat("High", price(t.high_price)), ...stat("Low", price(t.low_price)), ...stat("Open", price(t.opening_price)),
      ...stat("Previous close", price(t.prev_closing_price)),
      ...stat("Volume 24h", `${amount(t.acc_trade_volume_24h)} ${MARKET.split("-")[1]}`),
      ...stat("Value 24h", `${compact(t.acc_trade_price_24h)} ${t.quote}`),
      ...stat("52-week high", t.highest_52_week_price ? `${price(t.highest_52_week_price)} (${t.highest_52_week_date})` : "—"),
      ...stat("52-week low", t.lowest_52_week_price ? `${price(t.lowest_52_week_price)} (${t.lowest_52_week_date})` : "—"),
    ),
  );
  liveCandle(t);
}

async function refreshBook() {
  const answer = await api.orderbook(MARKET);
  const box = $("#book");
  if (!answer.ok) return message(box, answer.status === 404 ? "No order book for this market yet." : answer.message);
  const book = answer.data;
  const units = book.units.slice(0, 15);
  const biggest = Math.max(...units.flatMap((u) => [Number(u.ask_size), Number(u.bid_size)]), 0) || 1;
  const line = (side, p, size) =>
    el("tr", { class: side },
      el("td", { class: "num p", text: price(p) }),
      el("td", { class: "num" }, el("span", { class: "bar", style: `width:${((Number(size) / biggest) * 100).toFixed(1)}%` }), el("span", { text: amount(size, 4) })),
    );
  $("#book-age").textContent = `· ${age(book.age_ms)} old`;
  box.replaceChildren(
    el("table", { class: "book", "data-levels": String(units.length) },
      el("caption", { class: "sr-only", text: "Order book: asks above the spread, bids below" }),
      el("thead", {}, el("tr", {}, el("th", { class: "num", scope: "col", text: "Price" }), el("th", { class: "num", scope: "col", text: "Size" }))),
      el("tbody", {},
        ...[...units].reverse().map((u) => line("ask", u.ask_price, u.ask_size)),
        el("tr", { class: "spread" }, el("td", { colspan: "2", text: `spread ${book.spread === null ? "—" : price(book.spread)}` })),
        ...units.map((u) => line("bid", u.bid_price, u.bid_size)),
      ),
    ),
  );
  box.dataset.updated = String(book.timestamp ?? book.received_ms);
}

async function refreshTape() {
  const answer = await api.trades(MARKET, 50);
  const box = $("#tape");
  if (!answer.ok) return message(box, answer.message);
  const list = answer.data.trades;
  if (!list.length) return message(box, "No trades yet.");
  box.replaceChildren(
    el("table", { class: "tape" },
      el("caption", { class: "sr-only", text: "Trades, newest first; buys red, sells blue" }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Time (UTC)" }), el("th", { class: "num", scope: "col", text: "Price" }), el("th", { class: "num", scope: "col", text: "Size" }), el("th", { scope: "col", text: "Side" }))),
      el("tbody", {},
        ...list.map((t) =>
          el("tr", { class: t.side, "data-id": String(t.sequential_id) },
            el("td", { text: clock(t.trade_timestamp) }),
            el("td", { class: "num p", text: price(t.price) }),
            el("td", { class: "num", text: amount(t.volume, 4) }),
            el("td", { text: t.side === "BID" ? "buy" : "sell" }),
          ),
        ),
      ),
    ),
  );
  box.dataset.newest = String(list[0].sequential_id);
}

async function showPrediction() {
  const answer = await api.prediction(MARKET, "1d");
  const box = $("#prediction");
  if (!answer.ok) return message(box, answer.status === 404 || answer.status === 409 ? "No model yet: nothing has been trained for this market." : answer.message);
  const p = answer.data;
  const probability = Number(p.probability_up);
  box.replaceChildren(
    el("p", {}, el("span", { class: `prob ${probability >= 0.5 ? "rise" : "fall"}`, text: `${(probability * 100).toFixed(1)} %` }), el("span", { text: " chance the next day closes higher" })),
    el("p", { class: "small" }, el("span", { class: "muted", text: "Model " }), el("code", { text: String(p.model_version) })),
    el("p", { class: "small", text: p.beats_baselines ? "This model beat the simple baselines on held-out days." : "This model did NOT beat the simple baselines on held-out days: treat it as no better than a guess." }),
  );
}

function renderSignals(signalRows) {
  probe.signalRows = signalRows;
  refreshAlerts();
}

async function refreshAlerts() {
  const box = $("#market-alerts");
  const signedIn = document.body.dataset.signedIn === "1";
  const answer = signedIn ? await api.alerts(MARKET) : { ok: false };
  const parts = [];
  if (answer.ok) {
    const list = api.results(answer.data);
    parts.push(el("h3", { class: "small", text: "Your alerts" }));
    parts.push(
      list.length
        ? el("ul", { class: "plain" }, ...list.slice(0, 10).map((a) => el("li", {}, el("span", { text: `${utc(a.created_at)} · ${a.rule.name}: ${a.message} ` }), ...a.deliveries.map((d) => el("span", { class: `pill ${d.status}`, text: `${d.channel} ${d.status}` })))))
        : el("p", { class: "muted small", text: "None of your rules fired for this market yet." }),
    );
  } else {
    parts.push(el("p", { class: "muted small" }, el("a", { href: `/accounts/login/?next=${encodeURIComponent(location.pathname)}`, text: "Sign in" }), el("span", { text: " to see your alerts for this market." })));
  }
  const signalRows = probe.signalRows;
  parts.push(el("h3", { class: "small", text: "Recent signals" }));
  if (!signalRows) parts.push(el("p", { class: "muted small", text: "Signals are unavailable right now." }));
  else if (!signalRows.length) parts.push(el("p", { class: "muted small", text: `No ${state.interval} signals for this market yet.` }));
  else parts.push(el("ul", { class: "plain" }, ...signalRows.slice(0, 8).map((s) => el("li", { text: `${utc(s.candle_start).slice(0, 16)} · ${s.kind.replace("_", " ")} (${s.interval}) at ${price(s.price)}` }))));
  box.replaceChildren(...parts);
}

async function loadName() {
  const answer = await api.markets();
  if (!answer.ok) return;
  const entry = api.results(answer.data).find((m) => m.market === MARKET);
  if (entry) $("#market-name").textContent = [entry.korean_name, entry.english_name].filter(Boolean).join(" · ");
}

writeState(state, DEFAULTS);
loadName();
showPrediction();
await drawChart();
poll(refreshTicker, 1000);
poll(refreshBook, 1000);
poll(refreshTape, 1000);
