// ownllm console: uploads with progress, live job panels (server-sent events) and streamed chat.
// Written for this console; no framework. Pages work without it except for these three things.
"use strict";

const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

// ---------------------------------------------------------------- live panels
function watch(panel) {
  const url = panel.dataset.live;
  if (!url || panel.dataset.watching) return;
  const status = panel.querySelector("[data-status]");
  if (status && ["succeeded", "failed", "cancelled"].includes(status.dataset.status)) return;
  panel.dataset.watching = "1";
  const source = new EventSource(url);
  source.addEventListener("panel", (event) => {
    panel.innerHTML = JSON.parse(event.data).html;
  });
  source.addEventListener("end", () => {
    source.close();
    delete panel.dataset.watching;
    if (panel.dataset.reloadOnEnd) window.location.reload();
  });
  source.onerror = () => { /* the browser reconnects by itself; the server sends the current state first */ };
}

// ---------------------------------------------------------------- uploads
function filesFromEntry(entry, prefix) {
  return new Promise((resolve) => {
    if (entry.isFile) {
      entry.file((file) => resolve([{ file, name: prefix + file.name }]), () => resolve([]));
      return;
    }
    const reader = entry.createReader();
    const all = [];
    const more = () => reader.readEntries(async (entries) => {
      if (!entries.length) { resolve(all); return; }
      for (const child of entries) all.push(...await filesFromEntry(child, prefix + entry.name + "/"));
      more();
    }, () => resolve(all));
    more();
  });
}

function uploadOne(zone, item, list) {
  const row = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = item.name;
  const bar = document.createElement("progress");
  bar.max = 100; bar.value = 0;
  bar.setAttribute("aria-label", item.name);
  const outcome = document.createElement("span");
  outcome.className = "outcome";
  row.append(label, bar, outcome);
  list.append(row);
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", zone.dataset.upload);
    request.setRequestHeader("X-CSRF-Token", csrf());
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round(e.loaded / e.total * 100); };
    request.onload = () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (err) { body = {}; }
      if (request.status === 200) {
        bar.value = 100; row.classList.add("sent"); outcome.textContent = "✓";
        resolve(body.job_id);
      } else {
        row.classList.add("refused");
        outcome.textContent = (body.error && body.error.message) || ("HTTP " + request.status);
        outcome.setAttribute("role", "alert");
        resolve(null);
      }
    };
    request.onerror = () => { outcome.textContent = "network error"; resolve(null); };
    const form = new FormData();
    form.append("file", item.file, item.name);
    request.send(form);
  });
}

async function uploadAll(zone, items) {
  const list = document.getElementById("uploads");
  const slot = document.getElementById("upload-job");
  const jobs = new Set(await Promise.all(items.map((item) => uploadOne(zone, item, list))));
  for (const job of jobs) {
    if (!job || [...slot.children].some((child) => child.dataset.job === job)) continue;
    const panel = document.createElement("div");
    panel.className = "card live";
    panel.dataset.job = job;
    panel.dataset.live = `/console/jobs/${encodeURIComponent(job)}/live`;
    const link = document.createElement("a");
    link.href = `/console/jobs/${encodeURIComponent(job)}`;
    link.textContent = job;
    const line = document.createElement("p");
    line.append(link);
    panel.append(line);
    slot.append(panel);
    watch(panel);
  }
}

function setUpDropzone(zone) {
  const pick = (input) => input.addEventListener("change", () => {
    const items = [...input.files].map((file) => ({ file, name: file.webkitRelativePath || file.name }));
    input.value = "";
    uploadAll(zone, items);
  });
  pick(document.getElementById("pick-files"));
  pick(document.getElementById("pick-folder"));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const items = [];
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    if (entries.length) {
      for (const entry of entries) items.push(...await filesFromEntry(entry, ""));
    } else {
      for (const file of e.dataTransfer.files) items.push({ file, name: file.name });
    }
    uploadAll(zone, items);
  });
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); document.getElementById("pick-files").click(); }
  });
}

// ---------------------------------------------------------------- chat
function chip(citation, index) {
  const link = document.createElement("a");
  link.className = "chip";
  link.href = `/console/chunks/${encodeURIComponent(citation.chunk_id)}`;
  link.textContent = `[${index + 1}] ${citation.document} · ${citation.location}`;
  return link;
}

async function streamAnswer(url, body, target, chips) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "X-CSRF-Token": csrf() },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let message = "HTTP " + response.status;
    try { message = (await response.json()).error.message; } catch (err) { /* not JSON */ }
    target.textContent = message;
    target.classList.add("error");
    return "";
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "", text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const line = buffer.slice(0, cut).trim();
      buffer = buffer.slice(cut + 2);
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "[DONE]") return text;
      const event = JSON.parse(data);
      if (event.error) { target.textContent = event.error.message; target.classList.add("error"); return text; }
      if (event.citations) event.citations.forEach((c, i) => chips.append(chip(c, i)));
      const delta = event.choices && event.choices[0] && event.choices[0].delta;
      if (delta && delta.content) { text += delta.content; target.textContent = text; }
    }
  }
  return text;
}

function setUpChat(form) {
  const histories = [[], []];
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("chat-input");
    const question = input.value.trim();
    if (!question) return;
    const models = [document.getElementById("chat-model").value, document.getElementById("chat-compare").value];
    const knowledge = document.getElementById("chat-knowledge").checked;
    input.value = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const work = models.map(async (model, slot) => {
      const panel = document.querySelector(`.conversation[data-slot="${slot}"]`);
      panel.hidden = !model;
      if (!model) return;
      panel.querySelector(".model-name").textContent = model;
      const turn = document.createElement("div");
      turn.className = "turn";
      const asked = document.createElement("p");
      asked.className = "user";
      asked.textContent = question;
      const answer = document.createElement("p");
      answer.className = "assistant";
      answer.textContent = "…";
      const chips = document.createElement("p");
      chips.className = "chips";
      turn.append(asked, answer, chips);
      panel.querySelector(".turns").append(turn);
      histories[slot].push({ role: "user", content: question });
      const body = { model, messages: histories[slot], max_tokens: 256, temperature: 0.2 };
      if (knowledge) body.knowledge = {};
      try {
        const text = await streamAnswer(form.dataset.chat, body, answer, chips);
        histories[slot].push({ role: "assistant", content: text });
      } catch (err) {
        answer.textContent = String(err);
        answer.classList.add("error");
        histories[slot].pop();
      }
    });
    try {
      await Promise.all(work);
    } finally {
      button.disabled = false;
      input.focus();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(watch);
  const zone = document.getElementById("dropzone");
  if (zone) setUpDropzone(zone);
  const chat = document.getElementById("chat-form");
  if (chat) setUpChat(chat);
});
