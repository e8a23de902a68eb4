// `/alerts/` (signed in): create, pause and delete your alert rules; fired alerts with delivery status.
// The form is built from the API's own OpenAPI request schema, and shows the API's validation messages.
import * as api from "./api.js";
import { $, el, message, price, utc } from "./ui.js";

let components = {};
const resolve = (schema) => {
  if (!schema) return {};
  if (schema.$ref) return resolve(components[schema.$ref.split("/").at(-1)]);
  if (schema.allOf) return { ...resolve(schema.allOf[0]), ...schema, allOf: undefined };
  if (schema.oneOf) return { ...resolve(schema.oneOf.find((s) => !(s.$ref ?? "").endsWith("NullEnum")) ?? schema.oneOf[0]), nullable: true };
  return schema;
};
// drf-spectacular describes enums as "* `value` - Label" lines.
const labels = (schema) => Object.fromEntries([...(schema.description ?? "").matchAll(/\* `([^`]+)` - (.+)/g)].map((m) => [m[1], m[2]]));
const title = (name) => name.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());

function field(name, raw, required) {
  const schema = resolve(raw);
  const id = `f-${name}`;
  const help = raw.description && !raw.description.startsWith("*") ? raw.description : schema.description && !schema.description.startsWith("*") ? schema.description : "";
  const parts = [];
  if (schema.type === "array" && resolve(schema.items).enum) {
    const items = resolve(schema.items);
    const names = labels(items);
    parts.push(
      el("fieldset", { id, "data-name": name },
        el("legend", { text: title(name) + (required ? "" : " (optional)") }),
        ...items.enum.map((value, index) => el("label", {}, el("input", { type: "checkbox", name, value, checked: index === 0 }), ` ${names[value] ?? value}`)),
      ),
    );
  } else if (schema.type === "boolean") {
    parts.push(el("label", { for: id }, el("input", { id, type: "checkbox", name, checked: raw.default !== false }), ` ${title(name)}`));
  } else {
    parts.push(el("label", { for: id, text: title(name) + (required ? "" : " (optional)") }));
    if (schema.enum) {
      const names = labels(schema);
      parts.push(el("select", { id, name }, ...schema.enum.map((value) => el("option", { value, text: names[value] ?? value }))));
    } else {
      const type = schema.format === "email" ? "email" : "text";
      parts.push(el("input", { id, name, type, inputmode: schema.format === "decimal" ? "decimal" : undefined, placeholder: name === "market" ? "KRW-BTC (empty = every market)" : "" }));
    }
  }
  if (help) parts.push(el("span", { class: "help", id: `${id}-help`, text: help }));
  parts.push(el("span", { class: "field-error", id: `${id}-error`, role: "alert", "data-error-for": name }));
  return parts;
}

function collect(form, properties) {
  const body = {};
  for (const [name, raw] of Object.entries(properties)) {
    const schema = resolve(raw);
    if (schema.type === "array") body[name] = [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
    else if (schema.type === "boolean") body[name] = form.querySelector(`[name="${name}"]`).checked;
    else {
      const value = form.querySelector(`[name="${name}"]`).value.trim();
      if (value !== "") body[name] = value;
    }
  }
  return body;
}

async function buildForm() {
  const form = $("#rule-form");
  const answer = await api.schema();
  if (!answer.ok) return message(form, `The rule form needs the API schema: ${answer.message}`, "error");
  components = answer.data.components.schemas;
  const spec = components[api.RULE_SCHEMA];
  if (!spec) return message(form, `The API schema has no ${api.RULE_SCHEMA} component.`, "error");
  const required = new Set(spec.required ?? []);
  form.replaceChildren(
    el("p", { class: "error", id: "form-error", role: "alert" }),
    ...Object.entries(spec.properties).flatMap(([name, raw]) => field(name, raw, required.has(name))),
    el("button", { type: "submit", class: "primary", text: "Create rule" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const node of form.querySelectorAll(".field-error")) node.textContent = "";
    $("#form-error").textContent = "";
    const created = await api.createRule(collect(form, spec.properties));
    if (!created.ok) {
      $("#form-error").textContent = created.message;
      for (const [name, problems] of Object.entries(created.errors ?? {})) {
        const slot = form.querySelector(`[data-error-for="${name}"]`) ?? $("#form-error");
        slot.textContent = [slot.textContent, ...[problems].flat()].filter(Boolean).join(" ");
      }
      return;
    }
    form.reset();
    $("#form-error").textContent = "";
    await refreshRules();
  });
}

async function refreshRules() {
  const box = $("#rules");
  const answer = await api.alertRules();
  if (!answer.ok) return message(box, answer.message, "error");
  const rules = api.results(answer.data);
  if (!rules.length) return message(box, "No rules yet: create one with the form.");
  const threshold = (rule) =>
    Object.entries(rule)
      .filter(([name, value]) => value !== null && !["id", "name", "market", "kind", "channels", "email_to", "enabled", "created_at", "updated_at"].includes(name))
      .map(([name, value]) => `${name.replaceAll("_", " ")} ${typeof value === "string" ? price(value) : value}`)
      .join(", ");
  box.replaceChildren(
    el("table", { class: "list" },
      el("thead", {}, el("tr", {}, ...["Rule", "Market", "Kind", "Channels", "State", ""].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {},
        ...rules.map((rule) =>
          el("tr", { "data-rule": String(rule.id) },
            el("td", {}, el("span", { text: rule.name }), el("div", { class: "muted small", text: threshold(rule) })),
            el("td", { text: rule.market ?? "every market" }),
            el("td", { text: rule.kind.replaceAll("_", " ") }),
            el("td", { text: rule.channels.join(", ") }),
            el("td", {}, el("span", { class: `pill ${rule.enabled ? "green" : "paused"}`, text: rule.enabled ? "active" : "paused" })),
            el("td", {},
              el("button", { type: "button", class: "ghost", text: rule.enabled ? "Pause" : "Resume", "aria-label": `${rule.enabled ? "Pause" : "Resume"} ${rule.name}`, onclick: async () => { await api.updateRule(rule.id, { enabled: !rule.enabled }); refreshRules(); } }),
              " ",
              el("button", { type: "button", class: "ghost", text: "Delete", "aria-label": `Delete ${rule.name}`, onclick: async () => { if (confirm(`Delete the rule “${rule.name}” and its alerts?`)) { await api.deleteRule(rule.id); refreshRules(); refreshFired(); } } }),
            ),
          ),
        ),
      ),
    ),
  );
}

async function refreshFired() {
  const box = $("#fired");
  const answer = await api.alerts();
  if (!answer.ok) return message(box, answer.message, "error");
  const list = api.results(answer.data);
  if (!list.length) return message(box, "No alerts fired yet.");
  box.replaceChildren(
    el("table", { class: "list" },
      el("thead", {}, el("tr", {}, ...["When", "Rule", "Signal", "Deliveries"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {},
        ...list.map((a) =>
          el("tr", {},
            el("td", { text: utc(a.created_at) }),
            el("td", { text: a.rule.name }),
            el("td", {}, el("a", { href: `/markets/${a.signal.market}/?interval=${a.signal.interval}`, text: a.signal.market }), el("span", { text: ` ${a.signal.kind.replaceAll("_", " ")} at ${price(a.signal.price)}` })),
            el("td", {}, ...a.deliveries.map((d) => el("span", { class: `pill ${d.status}`, title: d.last_error || `${d.attempts} attempt(s)`, text: `${d.channel}: ${d.status}` }))),
          ),
        ),
      ),
    ),
  );
}

await Promise.all([buildForm(), refreshRules(), refreshFired()]);
setInterval(refreshFired, 10_000);
