// `/`: the market board. Polls the live tickers every second; tabs, search and sort live in the URL.
import * as api from "./api.js";
import { $, age, compact, direction, el, percent, poll, price, readState, writeState } from "./ui.js";

const DEFAULTS = { quote: "KRW", q: "", sort: "value", dir: "desc" };
const state = readState(DEFAULTS);
const names = new Map(); // market -> {korean_name, english_name, warning}
let sparks = {}; // market -> [{t, close}]
let latest = [];

const SORT_KEYS = {
  market: (t) => t.market,
  price: (t) => Number(t.trade_price),
  change: (t) => Number(t.signed_change_rate ?? 0),
  volume: (t) => Number(t.acc_trade_volume_24h ?? 0),
  value: (t) => Number(t.acc_trade_price_24h ?? 0),
};

function sparkline(points) {
  if (!points || points.length < 2) return el("span", { class: "muted small", text: "no 24h data" });
  const values = points.map((p) => Number(p.close));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const coords = values.map((v, i) => `${((i / (values.length - 1)) * 96 + 2).toFixed(1)},${(26 - ((v - lo) / span) * 22).toFixed(1)}`);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 100 28");
  svg.setAttribute("class", `spark ${direction(values.at(-1) - values[0])}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `24 h: ${points[0].close} to ${points.at(-1).close}`);
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", coords.join(" "));
  svg.append(line);
  return svg;
}

function matches(ticker) {
  if (state.quote !== "ALL" && ticker.quote !== state.quote) return false;
  if (!state.q) return true;
  const needle = state.q.toLowerCase();
  const name = names.get(ticker.market) ?? {};
  return [ticker.market, name.korean_name, name.english_name].some((text) => text && text.toLowerCase().includes(needle));
}

function renderTabs(quotes) {
  const tabs = $("#tabs");
  const all = [...quotes, "ALL"];
  if (!all.includes(state.quote)) state.quote = all[0];
  tabs.replaceChildren(
    ...all.map((quote) =>
      el("button", {
        type: "button",
        role: "tab",
        id: `tab-${quote}`,
        "aria-selected": String(quote === state.quote),
        tabindex: quote === state.quote ? "0" : "-1",
        text: quote === "ALL" ? "All" : quote,
        onclick: () => select(quote),
        onkeydown: (event) => {
          const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
          if (!step) return;
          const next = all[(all.indexOf(quote) + step + all.length) % all.length];
          select(next);
          document.getElementById(`tab-${next}`).focus();
        },
      }),
    ),
  );
}

function select(quote) {
  state.quote = quote;
  update();
}

function renderHeaders() {
  for (const th of document.querySelectorAll("th[data-sort]")) {
    const key = th.dataset.sort;
    th.setAttribute("aria-sort", key === state.sort ? (state.dir === "asc" ? "ascending" : "descending") : "none");
  }
}

function row(ticker) {
  const name = names.get(ticker.market) ?? {};
  const stale = ticker.age_ms === null || ticker.age_ms >= api.STALE_AFTER_MS;
  const moving = direction(ticker.signed_change_rate);
  const href = `/markets/${ticker.market}/`;
  return el(
    "tr",
    { class: stale ? "stale" : "", "data-market": ticker.market },
    el(
      "th",
      { scope: "row", class: "left" },
      el("a", { href }, el("span", { class: "code", text: ticker.market }), name.korean_name || name.english_name ? el("span", { class: "name" }, el("span", { text: name.korean_name ?? "" }), el("span", { class: "en", text: name.korean_name && name.english_name ? ` · ${name.english_name}` : name.english_name ?? "" })) : null),
      stale ? el("span", { class: "badge stale", text: "stale", title: `no live data for ${age(ticker.age_ms)}` }) : null,
      name.warning ? el("span", { class: "badge warn", text: "warning" }) : null,
    ),
    el("td", { class: `num ${moving}`, "data-col": "price", text: price(ticker.trade_price) }),
    el("td", { class: `num ${moving}` }, el("span", { text: percent(ticker.signed_change_rate) }), el("span", { class: "sub", text: price(ticker.signed_change_price) })),
    el("td", { class: "spark-col" }, sparkline(sparks[ticker.market])),
    el("td", { class: "num wide", text: `${compact(ticker.acc_trade_volume_24h)} ${ticker.market.split("-")[1]}` }),
    el("td", { class: "num" }, el("span", { text: compact(ticker.acc_trade_price_24h) }), el("span", { class: "unit", text: ` ${ticker.quote}` })),
  );
}

function update() {
  writeState(state, DEFAULTS);
  renderTabs([...new Set(latest.map((t) => t.quote))].sort((a, b) => (a === "KRW" ? -1 : b === "KRW" ? 1 : a.localeCompare(b))));
  renderHeaders();
  const key = SORT_KEYS[state.sort] ?? SORT_KEYS.value;
  const sign = state.dir === "asc" ? 1 : -1;
  const shown = latest.filter(matches).sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return (x < y ? -1 : x > y ? 1 : 0) * sign || a.market.localeCompare(b.market);
  });
  const body = $("#rows");
  if (!latest.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "empty", text: "No live prices yet: the hot path has not written any ticker to Redis." })));
  } else if (!shown.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "empty", text: `No ${state.quote === "ALL" ? "" : state.quote + " "}market matches “${state.q}”.` })));
  } else {
    body.replaceChildren(...shown.map(row));
  }
}

async function refresh() {
  const answer = await api.tickers();
  const status = $("#status");
  if (!answer.ok) {
    status.textContent = answer.message;
    status.className = "status error";
    return;
  }
  latest = answer.data.results;
  const stale = latest.filter((t) => t.age_ms === null || t.age_ms >= api.STALE_AFTER_MS).length;
  status.className = "status";
  status.textContent = `${latest.length} markets · ${stale ? `${stale} stale · ` : ""}updated ${new Date(answer.data.server_time).toISOString().slice(11, 19)} UTC`;
  document.body.dataset.updated = String(answer.data.server_time);
  update();
  if (!performance.getEntriesByName("first-rows").length) performance.mark("first-rows");
}

async function refreshSparks() {
  const answer = await api.sparklines();
  if (answer.ok) sparks = answer.data.markets;
}

async function loadNames() {
  const answer = await api.markets();
  if (!answer.ok) return;
  for (const market of api.results(answer.data)) names.set(market.market, market);
}

const search = $("#search");
search.value = state.q;
search.addEventListener("input", () => {
  state.q = search.value.trim();
  update();
});
for (const th of document.querySelectorAll("th[data-sort]")) {
  th.querySelector("button").addEventListener("click", () => {
    const key = th.dataset.sort;
    if (state.sort === key) state.dir = state.dir === "asc" ? "desc" : "asc";
    else [state.sort, state.dir] = [key, key === "market" ? "asc" : "desc"];
    update();
  });
}
$("#stale-s").textContent = String(api.STALE_AFTER_MS / 1000);

await Promise.all([loadNames(), refreshSparks()]);
poll(refresh, 1000);
setInterval(refreshSparks, 60_000);
