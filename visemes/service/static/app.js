// The page's only script: submit a job, poll it (bounded), show the plot and the downloads.
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 700, POLL_LIMIT = 1800; // at most ~21 minutes of polling per job

const tokenInput = $("token");
tokenInput.value = sessionStorage.getItem("visemes-token") || "";
tokenInput.addEventListener("change", () => sessionStorage.setItem("visemes-token", tokenInput.value));

function headers() {
  return { Authorization: "Bearer " + tokenInput.value.trim() };
}

function say(text, state) {
  const box = $("status");
  box.textContent = text;
  box.className = state || "";
}

async function errorText(response) {
  try {
    const body = await response.json();
    const err = body.error || {};
    return (err.field ? err.field + ": " : "") + (err.message || response.statusText);
  } catch (e) {
    return response.status + " " + response.statusText;
  }
}

async function fetchBlob(path) {
  const r = await fetch(path, { headers: headers() });
  if (!r.ok) throw new Error(await errorText(r));
  return r.blob();
}

function reset() {
  for (const id of ["plot", "plot-heading", "video", "downloads-heading"]) $(id).hidden = true;
  $("downloads").replaceChildren();
  $("flags").replaceChildren();
  $("progress").hidden = true;
}

async function showResult(job) {
  if (job.qa_flags.length) {
    const p = document.createElement("p");
    p.textContent = "QA flags: " + job.qa_flags.join(", ") + (job.qa_notes.length ? " (" + job.qa_notes.join("; ") + ")" : "");
    $("flags").append(p);
  }
  if (job.outputs.plot) {
    $("plot").src = URL.createObjectURL(await fetchBlob(job.outputs.plot));
    $("plot").hidden = $("plot-heading").hidden = false;
  }
  if (job.outputs.preview) {
    $("video").src = URL.createObjectURL(await fetchBlob(job.outputs.preview));
    $("video").hidden = false;
  }
  $("downloads-heading").hidden = false;
  for (const [name, path] of Object.entries(job.outputs)) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Download " + name;
    button.addEventListener("click", async () => {
      try {
        const blob = await fetchBlob(path);
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = (job.request.name || "visemes") + "-" + name;
        a.click();
        URL.revokeObjectURL(a.href);
      } catch (e) { say("Download failed: " + e.message, "failed"); }
    });
    li.append(button);
    $("downloads").append(li);
  }
}

async function poll(id) {
  for (let i = 0; i < POLL_LIMIT; i++) {
    const r = await fetch("/v1/jobs/" + id, { headers: headers() });
    if (!r.ok) { say("Polling failed: " + await errorText(r), "failed"); return; }
    const job = await r.json();
    $("progress").hidden = false;
    $("progress").value = job.progress;
    if (job.state === "succeeded") {
      say("Job " + id + " succeeded in " + (job.timings.run_seconds ?? 0).toFixed(1) + " s.", "succeeded");
      $("progress").hidden = true;
      await showResult(job);
      return;
    }
    if (job.state === "failed" || job.state === "canceled") {
      say("Job " + id + " " + job.state + (job.error ? ": " + job.error.message : "."), "failed");
      $("progress").hidden = true;
      return;
    }
    say("Job " + id + " is " + job.state + "…");
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
  say("Stopped polling; the job is still not done. Reload the page to look again.", "failed");
}

$("job-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  reset();
  sessionStorage.setItem("visemes-token", tokenInput.value);
  const form = new FormData();
  const audio = $("audio").files[0];
  if (audio) form.append("audio", audio);
  for (const name of ["text", "lang", "viseme_set", "fps", "formats"]) form.append(name, $(name).value);
  form.append("use_model", $("use_model").checked ? "true" : "false");
  form.append("preview", $("preview").checked ? "true" : "false");
  form.append("plot", "true");
  form.append("name", audio ? audio.name.replace(/\.[^.]*$/, "") : "visemes");
  $("submit").disabled = true;
  say("Submitting…");
  try {
    const r = await fetch("/v1/jobs", { method: "POST", body: form, headers: headers() });
    if (!r.ok) { say("Refused: " + await errorText(r), "failed"); return; }
    await poll((await r.json()).id);
  } catch (e) {
    say("Request failed: " + e.message, "failed");
  } finally {
    $("submit").disabled = false;
  }
});
