"use strict";
// The submit form posts JSON to the REST API and opens the new job's page; a 4xx shows what to change.
const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("submit-form");
  const error = document.getElementById("submit-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const data = new FormData(form);
    const body = {device: data.get("device"), strategy: data.get("strategy"),
                  trials: parseInt(data.get("trials"), 10), seed: parseInt(data.get("seed"), 10),
                  parallelism: parseInt(data.get("parallelism"), 10)};
    for (const name of ["target", "shape", "dtype"]) {
      const value = data.get(name).trim();
      if (value) body[name] = value;
    }
    const objectives = data.get("objectives").trim();
    if (objectives) body.objectives = objectives.split(",").map((o) => o.trim()).filter(Boolean);
    const response = await fetch("/api/v1/jobs", {method: "POST", headers: {"Content-Type": "application/json",
                                                             "X-CSRF-Token": csrfToken()},
                                                   body: JSON.stringify(body)});
    const reply = await response.json();
    if (response.ok) {
      window.location.href = `/dashboard/jobs/${reply.id}`;
    } else {
      const detail = reply.detail;
      error.textContent = typeof detail === "string" ? detail
        : (detail || []).map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
    }
  });
});
