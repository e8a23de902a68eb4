// `/health/`: the pipeline at a glance (red / amber / green, each with its threshold in words).
import * as api from "./api.js";
import { $, age, amount, el, poll, utc } from "./ui.js";

const light = (level) => el("span", { class: `pill ${level}`, text: level });

function card(id, check, body) {
  const section = $(id);
  section.dataset.level = check.level;
  section.querySelector(".light").className = `light ${check.level}`;
  section.querySelector(".light").setAttribute("aria-label", check.level);
  section.querySelector(".light").setAttribute("role", "img");
  if (check.threshold) section.querySelector(".threshold").textContent = check.threshold;
  section.querySelector(".body").replaceChildren(...(check.error ? [el("p", { class: "error", text: check.error })] : []), ...body);
}

const table = (headers, rows) =>
  el("table", { class: "list" },
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((cell) => el("td", {}, cell))))),
  );

function render(h) {
  const a = h.airflow;
  card("#h-airflow", a, a.dags.length
    ? [table(["DAG", "Last run", "State", ""], a.dags.map((d) => [d.dag_id, d.run_after ? d.run_after.slice(0, 19).replace("T", " ") : "never", d.state ?? "no runs", el("span", {}, light(d.level), d.paused ? el("span", { class: "pill paused", text: "paused" }) : "")]))]
    : a.error ? [] : [el("p", { class: "empty", text: "Airflow lists no DAGs." })]);
  const k = h.kafka;
  const topics = [...new Set([...Object.keys(k.lag), ...Object.keys(k.dlq)])].sort();
  card("#h-kafka", k, topics.length ? [table(["Topic", "Consumer lag", "Dead letters"], topics.map((t) => [t, amount(k.lag[t] ?? 0, 0), amount(k.dlq[t] ?? 0, 0)]))] : k.error ? [] : [el("p", { class: "empty", text: "The sink reports no topics yet." })]);
  const b = h.beat;
  card("#h-beat", b, [table(["Entry", "Every", "Last run", "State", ""], b.tasks.map((t) => [t.entry, age(t.period_s * 1000), t.last_run_ms ? `${utc(t.last_run_ms)} (${age(t.age_ms)} ago)` : "never", t.state ?? "—", light(t.level)]))]);
  const d = h.data_age;
  card("#h-data", d, d.markets.length ? [table(["Market", "Age", ""], d.markets.map((m) => [el("a", { href: `/markets/${m.market}/`, text: m.market }), age(m.age_ms), light(m.level)]))] : d.error ? [] : [el("p", { class: "empty", text: "No market has a live ticker in Redis." })]);
  const worst = h.processes.some((p) => p.level === "red") ? "red" : "green";
  card("#h-proc", { level: worst, threshold: "" }, h.processes.map((p) =>
    el("div", {},
      el("h3", { class: "small" }, light(p.level), ` ${p.name} `, el("span", { class: "muted", text: p.url })),
      p.error ? el("p", { class: "error", text: p.error })
        : table(["Metric", "Value"], Object.entries(p.samples).filter(([name]) => !name.includes("_bucket")).slice(0, 40).map(([name, value]) => [el("code", { text: name }), amount(value, 3)])),
    ),
  ));
  $("#status").textContent = `checked ${utc(h.server_time)} (took ${h.took_ms} ms) · refreshes every 10 s`;
  document.body.dataset.updated = String(h.server_time);
}

poll(async () => {
  const answer = await api.pipelineHealth();
  if (!answer.ok) {
    $("#status").textContent = answer.message;
    return;
  }
  render(answer.data);
}, 10_000);
