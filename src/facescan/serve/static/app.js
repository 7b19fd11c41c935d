// facescan web page: posts photos to /v1/analyze, /v1/target and /v1/verify and shows the answers.
// Plain JavaScript, no dependency: the page works offline.
"use strict";

const $ = (id) => document.getElementById(id);
let currentFile = null;
let currentFaces = [];

function headers() {
  const key = $("api-key").value.trim();
  return key ? { Authorization: "Bearer " + key } : {};
}

async function post(path, form) {
  const response = await fetch(path, { method: "POST", body: form, headers: headers() });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    let detail = body && body.detail !== undefined ? body.detail : response.statusText;
    if (Array.isArray(detail)) detail = detail.map((d) => (d.loc || []).join(".") + ": " + d.msg).join("; ");
    const retry = response.headers.get("Retry-After");
    throw new Error(response.status + ": " + detail + (retry ? " (retry in " + retry + " s)" : ""));
  }
  return body;
}

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

// the same text as facescan's annotated images (facescan.output.describe)
function describe(attributes) {
  return Object.entries(attributes).map(([name, p]) => {
    if (name === "age" && p.years !== undefined && p.years !== null) return Math.round(p.years) + "y, group " + p.label;
    if (name === "appearance") return p.label;
    return p.label + " " + p.score.toFixed(2);
  }).join(" | ");
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

function render(record) {
  const boxes = $("boxes");
  const tbody = $("faces").querySelector("tbody");
  boxes.replaceChildren();
  tbody.replaceChildren();
  currentFaces = record.faces;
  record.faces.forEach((face, i) => {
    const [x1, y1, x2, y2] = face.bbox;
    const box = document.createElement("div");
    box.className = (x1 + x2) / 2 > record.width / 2 ? "box right" : "box";  // labels stay inside the photo
    box.dataset.face = String(i + 1);
    box.dataset.bbox = face.bbox.join(",");
    box.style.left = (100 * x1 / record.width) + "%";
    box.style.top = (100 * y1 / record.height) + "%";
    box.style.width = (100 * (x2 - x1) / record.width) + "%";
    box.style.height = (100 * (y2 - y1) / record.height) + "%";
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = "#" + (i + 1) + " " + describe(face.attributes);
    box.appendChild(label);
    boxes.appendChild(box);
    const row = document.createElement("tr");
    row.dataset.face = String(i + 1);
    const a = face.attributes;
    cell(row, String(i + 1));
    cell(row, face.bbox.map((v) => Math.round(v)).join(", "));
    cell(row, a.gender ? a.gender.label + " " + a.gender.score.toFixed(2) : "-");
    cell(row, a.age ? (a.age.years != null ? Math.round(a.age.years) + "y, " : "") + a.age.label : "-");
    cell(row, a.race ? a.race.label + " " + a.race.score.toFixed(2) : "-");
    cell(row, a.emotion ? a.emotion.label + " " + a.emotion.score.toFixed(2) : "-");
    cell(row, face.score.toFixed(3));
    tbody.appendChild(row);
  });
  $("figure").hidden = false;
  $("faces").hidden = false;
  $("status").textContent = record.path + ": " + record.faces.length + " face(s)";
}

async function analyse(file) {
  currentFile = file;
  showError("");
  $("target-result").textContent = "";
  if ($("preview").src.startsWith("blob:")) URL.revokeObjectURL($("preview").src);
  $("preview").src = URL.createObjectURL(file);  // shown from the browser's memory, not re-downloaded
  $("status").textContent = "analysing " + file.name + " ...";
  $("faces").hidden = true;
  $("boxes").replaceChildren();
  const form = new FormData();
  form.append("images", file, file.name);
  try {
    const answer = await post("/v1/analyze", form);
    render(answer.results[0]);
  } catch (e) {
    $("status").textContent = "";
    showError(e.message);
  }
}

function overlap(a, b) {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return Math.max(0, w) * Math.max(0, h);
}

async function findTarget(event) {
  event.preventDefault();
  if (!currentFile) { showError("analyse a photo first"); return; }
  const form = new FormData();
  form.append("image", currentFile, currentFile.name);
  form.append("description", $("description").value);
  document.querySelectorAll(".target").forEach((el) => el.classList.remove("target"));
  $("target-result").textContent = "looking ...";
  try {
    const answer = await post("/v1/target", form);
    $("target-result").textContent = answer.status + ": " + answer.message;
    if (answer.match) {  // the analysed face that is this box
      let best = -1, most = 0;
      currentFaces.forEach((f, i) => { const o = overlap(f.bbox, answer.match.bbox); if (o > most) { most = o; best = i; } });
      if (best >= 0) {
        document.querySelector('.box[data-face="' + (best + 1) + '"]').classList.add("target");
        document.querySelector('tr[data-face="' + (best + 1) + '"]').classList.add("target");
      }
    }
  } catch (e) {
    $("target-result").textContent = "";
    showError(e.message);
  }
}

async function compare(event) {
  event.preventDefault();
  const a = $("photo-a").files[0], b = $("photo-b").files[0];
  const form = new FormData();
  form.append("image_a", a, a.name);
  form.append("image_b", b, b.name);
  $("verify-result").textContent = "comparing ...";
  try {
    const v = await post("/v1/verify", form);
    $("verify-result").textContent = (v.same ? "same person" : "different people") + " (probability " +
      v.probability.toFixed(2) + "): cosine distance " + v.distance.toFixed(3) + (v.same ? " <= " : " > ") +
      "threshold " + v.threshold.toFixed(3) + " [" + v.model + "]";
    $("verify-result").dataset.same = String(v.same);
  } catch (e) {
    $("verify-result").textContent = "";
    showError(e.message);
  }
}

$("photo").addEventListener("change", (e) => { if (e.target.files[0]) analyse(e.target.files[0]); });
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files[0]) analyse(e.dataTransfer.files[0]);
});
$("target-form").addEventListener("submit", findTarget);
$("verify-form").addEventListener("submit", compare);
