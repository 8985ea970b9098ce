// The operations page: figures pushed by the server as server-sent events, a journey on request.
// Everything is written with textContent, so nothing from the broker is ever read as HTML.
"use strict";

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells);
    return tr;
  }));
}

function seconds(value) {
  if (value === null || value === undefined) return "";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 120) return `${value.toFixed(1)} s`;
  return `${(value / 60).toFixed(1)} min`;
}

function show(snapshot) {
  fill("stages", Object.entries(snapshot.stages).map(([stage, n]) => [cell(stage), cell(n, "num")]));
  document.getElementById("rate").textContent = snapshot.rates.per_minute;
  fill("rates", Object.entries(snapshot.rates.by_type).map(([type, n]) => [cell(type), cell(n, "num")]));
  fill("lag", (snapshot.lag || []).map((g) => [
    cell(g.group),
    g.lag === null ? cell("no offsets", "unknown") : cell(g.lag, g.lag > 0 ? "num behind" : "num"),
    cell(seconds(g.waiting)),
  ]));
  fill("outbox", Object.entries(snapshot.outbox).map(([service, age]) => [
    cell(service),
    age === null ? cell("unknown", "unknown") : cell(seconds(age), "num"),
  ]));
  document.getElementById("dead-total").textContent = snapshot.dead_letters.total;
  fill("dead", snapshot.dead_letters.recent.map((d) => [
    cell(d.failed_at), cell(d.consumer), cell(d.original_topic), cell(d.application_id),
    cell(`${d.error_class}: ${d.error_message || ""}`),
  ]));
  const problems = Object.entries(snapshot.problems).map(([what, why]) => `${what}: ${why}`);
  const status = document.getElementById("status");
  status.textContent = problems.length
    ? `updated ${snapshot.at}; trouble with ${problems.join("; ")}`
    : `live, updated ${snapshot.at} (${snapshot.records} events since ${snapshot.since})`;
  status.classList.toggle("down", problems.length > 0);
}

// A session that ended (logout elsewhere, expiry, a restarted page server) answers 401: back to
// the login form rather than a page that silently stops updating.
function toLogin(response) {
  if (response.status !== 401) return false;
  window.location.assign("/login");
  return true;
}

function connect() {
  const source = new EventSource("/api/events");
  source.onmessage = (message) => show(JSON.parse(message.data));
  source.onerror = async () => {
    const status = document.getElementById("status");
    status.textContent = "connection lost; reconnecting…";
    status.classList.add("down");
    // EventSource gives up for good on an error status and never says which; ask once.
    if (source.readyState === EventSource.CLOSED) {
      const response = await fetch("/api/snapshot", { method: "HEAD" }).catch(() => null);
      if (response && toLogin(response)) return;
      setTimeout(connect, 2000);
    }
  };
}

async function search(event) {
  event.preventDefault();
  const id = document.getElementById("application-id").value.trim();
  const note = document.getElementById("journey-note");
  note.textContent = "searching…";
  const response = await fetch(`/api/journey/${encodeURIComponent(id)}`);
  if (toLogin(response)) return;
  const body = await response.json();
  if (!response.ok) {
    note.textContent = body.detail;
    fill("journey", []);
    return;
  }
  note.textContent = body.steps.length ? `${body.steps.length} steps` : "no events about this application";
  fill("journey", body.steps.map((s) => [
    cell(s.time),
    cell(s.gap_seconds === null ? "" : `+${seconds(s.gap_seconds)}`),
    cell(s.type),
    cell(s.actor || ""),
    cell(Object.entries(s.detail).map(([k, v]) => `${k}=${v}`).join(", ")),
    cell(`${s.topic}/${s.partition}@${s.offset}`),
  ]));
}

document.getElementById("search").addEventListener("submit", search);
connect();
