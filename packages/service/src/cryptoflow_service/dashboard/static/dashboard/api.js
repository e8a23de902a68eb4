// Every API URL and answer shape the dashboard assumes, in one place. The pages read the public API only
// (the JSON any user gets); when an endpoint changes, this file is the one to adapt.
//
// Each reader resolves to `{ok: true, data}` or `{ok: false, status, message}` with a plain-words message,
// so a page can say what is missing instead of breaking.

const JSON_HEADERS = { Accept: "application/json" };

// Live data older than this (ms) marks a market "stale" on the board.
export const STALE_AFTER_MS = 10_000;

// Intervals the market page offers, and how each reads its candles.
export const INTERVALS = ["1m", "1h", "1d"];
const INTERVAL_MS = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000 };
export const intervalMs = (interval) => INTERVAL_MS[interval];

// `/api/candles/?market=&interval=1m|1h|1d` (1m and 1h built from archived trades, every market).
const CANDLE_INTERVALS_SERVED = ["1m", "1h", "1d"];
// `/api/indicators/<market>/` serves the daily rows (the minute ones stay in `mart.indicators_1m`).
const INDICATOR_INTERVALS_SERVED = ["1d"];

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function words(status, body, url) {
  if (status === 0) return "The service did not answer (network error).";
  if (status === 503) return "The service's data store is unreachable right now (503).";
  if (status === 401 || status === 403) return "Sign in to see this.";
  if (body && typeof body.detail === "string") return body.detail;
  if (status === 404) return `Not served by this API yet (${url} answered 404).`;
  return `The API answered ${status}.`;
}

export async function request(url, { method = "GET", body } = {}) {
  const headers = { ...JSON_HEADERS };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, status: 0, message: words(0) };
  }
  if (response.status === 204) return { ok: true, status: 204, data: null };
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    return { ok: false, status: response.status, message: words(response.status, data, url), errors: data?.errors ?? {} };
  }
  return { ok: true, status: response.status, data };
}

const enc = encodeURIComponent;

// --- live (Redis) ------------------------------------------------------------------------------------
// `{server_time, count, max_age_ms, results: [ticker]}`; a ticker has `market, quote, trade_price,
// signed_change_rate, signed_change_price, acc_trade_volume_24h, acc_trade_price_24h, high_price,
// low_price, opening_price, prev_closing_price, trade_timestamp, age_ms, …` (decimals are strings).
export const tickers = () => request("/api/realtime-price/");
export const ticker = (market) => request(`/api/realtime-price/${enc(market)}/`);
// `{market, count, trades: [{price, volume, side: "ASK"|"BID", trade_timestamp, sequential_id}]}`, newest first.
export const trades = (market, limit = 50) => request(`/api/trades/${enc(market)}/?limit=${limit}`);
// `{units: [{ask_price, ask_size, bid_price, bid_size}] (best first), best_ask_price, best_bid_price, spread, age_ms}`.
export const orderbook = (market) => request(`/api/orderbook/${enc(market)}/`);

// --- registry and history (PostgreSQL) ---------------------------------------------------------------
// `{count, results: [{market, quote, korean_name, english_name, warning, caution, live}]}`.
export const markets = () => request("/api/markets/");
// `{server_time, since, markets: {market: [{t, close}]}}`: hourly closes of the last 24 h.
export const sparklines = () => request("/api/sparklines/");

// Candles in time order: `[{candle_start (ms), opening_price, high_price, low_price, trade_price, volume}]`.
export async function candles(market, interval, limit) {
  if (!CANDLE_INTERVALS_SERVED.includes(interval)) {
    return { ok: false, status: 404, message: `${interval} candles are not served by this API yet.` };
  }
  const answer = await request(`/api/candles/?market=${enc(market)}&interval=${interval}&limit=${limit}`);
  if (answer.ok) answer.data = { count: answer.data.count, candles: answer.data.candles ?? answer.data.results ?? [] };
  return answer;
}

// Indicator rows in time order: `{time (ms), ma_5, ma_20, ma_60, ma_120?, bb_upper?, bb_middle?, bb_lower?,
// rsi_14, macd?, macd_signal?, macd_hist?}`; a missing column is simply not drawn.
export const INDICATOR_LINES = {
  ma: ["ma_5", "ma_20", "ma_60", "ma_120"],
  bollinger: ["bb_upper", "bb_middle", "bb_lower"],
  rsi: "rsi_14",
  macd: ["macd", "macd_signal", "macd_hist"],
};
export async function indicators(market, interval, limit) {
  if (!INDICATOR_INTERVALS_SERVED.includes(interval)) {
    return { ok: false, status: 404, message: `Indicators for ${interval} candles are not served by this API yet (daily only).` };
  }
  const answer = await request(`/api/indicators/${enc(market)}/?limit=${Math.min(limit, 1000)}`);
  if (answer.ok) answer.data = answer.data.history.map((row) => ({ ...row, time: row.day_start }));
  return answer;
}

// Crosses: `{results: [{kind: "golden_cross"|"dead_cross"|"volume_spike", interval, candle_start, price, short_window, long_window}]}`.
const SIGNAL_INTERVALS_SERVED = ["1m", "1d"];
export async function signals(market, interval) {
  if (!SIGNAL_INTERVALS_SERVED.includes(interval)) {
    return { ok: false, status: 404, message: `signals are not detected on ${interval} candles.` };
  }
  return request(`/api/signals/?market=${enc(market)}&interval=${interval}&limit=500`);
}

// The ML prediction: `{market, interval, probability_up, direction, beats_baselines, model_version,
// feature_time, note, model: {walk-forward metrics next to the baselines'}}`; 404/409 -> "no model yet".
export async function prediction(market, interval = "1d") {
  const answer = await request(`/api/predict/?market=${enc(market)}&interval=${interval}`);
  if (!answer.ok && (answer.status === 404 || answer.status === 409)) {
    return { ok: false, status: answer.status, message: "No model yet." };
  }
  return answer;
}

// --- alerts (signed in: session cookie + CSRF token) -------------------------------------------------
export const alertRules = () => request("/api/alert-rules/?limit=200");
export const createRule = (rule) => request("/api/alert-rules/", { method: "POST", body: rule });
export const updateRule = (id, changes) => request(`/api/alert-rules/${id}/`, { method: "PATCH", body: changes });
export const deleteRule = (id) => request(`/api/alert-rules/${id}/`, { method: "DELETE" });
// `{results: [{id, rule: {id, name}, signal: {market, kind, price, candle_start}, message, created_at,
// deliveries: [{channel, status, attempts, last_error, sent_at}]}]}`.
export const alerts = (market) => request(`/api/alerts/?limit=50${market ? `&market=${enc(market)}` : ""}`);
// The alert-rule form is built from the OpenAPI schema's request component, so new rule kinds and
// fields appear without touching the page.
export const RULE_SCHEMA = "RuleInRequest";
export const schema = () => request("/api/schema/?format=json");

// --- pipeline health (server-side reads of Airflow, metrics, Redis) ----------------------------------
export const pipelineHealth = () => request("/api/pipeline-health/");

// Paginated list answers are `{count, next, previous, results}` (limit/offset).
export const results = (data) => (Array.isArray(data) ? data : data?.results ?? []);
