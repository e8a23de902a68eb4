// Display helpers shared by the pages: formatting (decimal strings stay strings until shown), Upbit's
// colours, tiny DOM builders, URL-held view state and polling. No market math lives here.

export const COLORS = { rise: "#c84a31", fall: "#1261c4", even: "#333d4b", grid: "#eef0f3", text: "#333d4b" };

// Digits for a price: Upbit-like (big KRW prices without decimals, small ones with more).
export function priceDigits(text) {
  const value = Math.abs(Number(text));
  if (!Number.isFinite(value) || value === 0) return 2;
  if (value >= 1000) return 0;
  if (value >= 100) return 1;
  if (value >= 1) return 2;
  return Math.min(8, 2 + Math.ceil(-Math.log10(value)) + 1);
}

export function price(text) {
  if (text === null || text === undefined) return "—";
  const digits = priceDigits(text);
  return Number(text).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function amount(text, digits = 3) {
  if (text === null || text === undefined) return "—";
  return Number(text).toLocaleString("en-US", { maximumFractionDigits: digits });
}

// 1234567 -> "1.23M" (for 24 h value and volume columns).
export function compact(text) {
  if (text === null || text === undefined) return "—";
  return Number(text).toLocaleString("en-US", { notation: "compact", maximumFractionDigits: 2 });
}

// A rate string (0.0123 = +1.23 %) as a signed percentage.
export function percent(rate) {
  if (rate === null || rate === undefined) return "—";
  const value = Number(rate) * 100;
  return `${value > 0 ? "+" : ""}${value.toFixed(2)}%`;
}

export const direction = (text) => {
  const value = Number(text);
  return value > 0 ? "rise" : value < 0 ? "fall" : "even";
};

export function age(ms) {
  if (ms === null || ms === undefined) return "never";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

export const utc = (ms) => (ms === null || ms === undefined ? "—" : new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC");
export const clock = (ms) => new Date(ms).toISOString().slice(11, 19);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// View state in the URL: read with defaults, write without adding history entries.
export function readState(defaults) {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(Object.entries(defaults).map(([key, value]) => [key, params.get(key) ?? value]));
}

export function writeState(state, defaults) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) if (value !== defaults[key] && value !== "") params.set(key, value);
  const query = params.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

// Runs `task` now and then every `ms` (after the previous run finished), while the page is visible.
export function poll(task, ms) {
  let timer = null;
  const run = async () => {
    try {
      await task();
    } finally {
      timer = setTimeout(run, document.hidden ? ms * 5 : ms);
    }
  };
  run();
  return () => clearTimeout(timer);
}

// A message in place of content (empty states and errors), in plain words.
export function message(container, text, kind = "empty") {
  container.replaceChildren(el("p", { class: kind, text }));
}
