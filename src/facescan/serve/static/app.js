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

// Where each face's label goes, as facescan's annotated images place them (facescan.annotate.layout):
// around its box, nearest first, then anywhere in the photo, nearest first; the first place covering no
// label and no face, else the place covering least (a label counts 4x a face: reading matters most).
// Boxes and sizes in displayed pixels; returns one [x1, y1, x2, y2] per face.
function candidates(box, w, h, width, height, gap) {
  const [x1, y1, x2, y2] = box;
  const spots = [];
  const seen = new Set();
  const add = (x, y) => {
    x = Math.min(Math.max(0, x), Math.max(0, width - w));
    y = Math.min(Math.max(0, y), Math.max(0, height - h));
    const key = x + "," + y;
    if (!seen.has(key)) { seen.add(key); spots.push([x, y, x + w, y + h]); }
  };
  for (let ring = 0; ring < 4; ring++) {  // 0: touching the box, then further out
    const d = gap + ring * (Math.floor(h / 2) + gap);
    [[x1, y2 + d], [x1, y1 - d - h], [x2 + d, y1], [x1 - d - w, y1],
     [x2 - w, y2 + d], [x2 - w, y1 - d - h], [x2 + d, y2 - h], [x1 - d - w, y2 - h]].forEach(([x, y]) => add(x, y));
  }
  const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, grid = [];
  for (let x = 0; x < Math.max(1, width - w + 1); x += Math.max(4, Math.floor(w / 4))) {
    for (let y = 0; y < Math.max(1, height - h + 1); y += Math.max(4, Math.floor(h / 4))) grid.push([x, y]);
  }
  grid.sort((a, b) => ((a[0] + w / 2 - cx) ** 2 + (a[1] + h / 2 - cy) ** 2) -
                      ((b[0] + w / 2 - cx) ** 2 + (b[1] + h / 2 - cy) ** 2));
  grid.forEach(([x, y]) => add(x, y));
  return spots;
}

function layout(boxes, sizes, width, height, gap = 3) {
  const placed = [];
  boxes.forEach((box, i) => {
    const [w, h] = sizes[i];
    let best = null, bestCost = Infinity;
    for (const spot of candidates(box, w, h, width, height, gap)) {
      let cost = 0;
      placed.forEach((p) => { cost += 4 * overlap(spot, p); });
      boxes.forEach((f) => { cost += overlap(spot, f); });
      if (cost === 0) { best = spot; break; }
      if (cost < bestCost) { best = spot; bestCost = cost; }
    }
    placed.push(best || [0, 0, w, h]);
  });
  return placed;
}

// the label's lines, as facescan's annotated images write them: "#1 female 0.97", "27y, group 20-29", ...
function labelLines(number, attributes) {
  const parts = describe(attributes).split(" | ").filter((t) => t);
  return parts.length ? ["#" + number + " " + parts[0], ...parts.slice(1)] : ["#" + number];
}

// labels and leader lines drawn again for the photo's displayed size (after a render or a resize)
function placeLabels() {
  const img = $("preview");
  const labels = [...document.querySelectorAll("#boxes .label")];
  if (!labels.length || !img.naturalWidth) return;
  const width = img.clientWidth, height = img.clientHeight, scale = width / img.naturalWidth;
  const boxes = currentFaces.map((f) => f.bbox.map((v) => v * scale));
  const sizes = labels.map((l) => {  // whole pixels, as the annotator's layout works in them
    const r = l.getBoundingClientRect(), w = Math.ceil(r.width), h = Math.ceil(r.height);
    l.style.width = w + "px";
    l.style.height = h + "px";
    return [w, h];
  });
  const places = layout(boxes, sizes, width, height);
  const leaders = $("leaders");
  leaders.replaceChildren();
  labels.forEach((label, i) => {
    const [x1, y1, x2, y2] = places[i], box = boxes[i];
    label.style.left = x1 + "px";
    label.style.top = y1 + "px";
    if (overlap(places[i], [box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4]) === 0) {  // not touching: a leader
      const tx = Math.min(Math.max((x1 + x2) / 2, box[0]), box[2]), ty = Math.min(Math.max((y1 + y2) / 2, box[1]), box[3]);
      const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
      line.setAttribute("x1", Math.min(Math.max(tx, x1), x2));
      line.setAttribute("y1", Math.min(Math.max(ty, y1), y2));
      line.setAttribute("x2", tx);
      line.setAttribute("y2", ty);
      leaders.appendChild(line);
    }
  });
}

function render(record) {
  const boxes = $("boxes");
  const tbody = $("faces").querySelector("tbody");
  boxes.replaceChildren();
  tbody.replaceChildren();
  currentFaces = record.faces;
  const leaders = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  leaders.id = "leaders";
  boxes.appendChild(leaders);
  record.faces.forEach((face, i) => {
    const [x1, y1, x2, y2] = face.bbox;
    const box = document.createElement("div");
    box.className = "box";
    box.dataset.face = String(i + 1);
    box.dataset.bbox = face.bbox.join(",");
    if (face.found_by) box.dataset.foundBy = face.found_by;
    box.style.left = (100 * x1 / record.width) + "%";
    box.style.top = (100 * y1 / record.height) + "%";
    box.style.width = (100 * (x2 - x1) / record.width) + "%";
    box.style.height = (100 * (y2 - y1) / record.height) + "%";
    boxes.appendChild(box);
    const label = document.createElement("div");
    label.className = "label";
    label.dataset.face = String(i + 1);
    labelLines(i + 1, face.attributes).forEach((text) => {
      const line = document.createElement("span");
      line.textContent = text;
      label.appendChild(line);
    });
    boxes.appendChild(label);
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
  const img = $("preview");
  (img.complete ? Promise.resolve() : img.decode().catch(() => {})).then(() => {
    placeLabels();
    boxes.dataset.placed = String(record.faces.length);  // for tests: the labels are where they stay
  });
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
  delete $("boxes").dataset.placed;
  const form = new FormData();
  form.append("images", file, file.name);
  form.append("if_no_face", $("if-no-face").value);
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
        document.querySelectorAll('#boxes [data-face="' + (best + 1) + '"]').forEach((el) => el.classList.add("target"));
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
$("if-no-face").addEventListener("change", () => { if (currentFile) analyse(currentFile); });
window.addEventListener("resize", placeLabels);
$("target-form").addEventListener("submit", findTarget);
$("verify-form").addEventListener("submit", compare);
