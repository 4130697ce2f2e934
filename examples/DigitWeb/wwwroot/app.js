// The draw-a-digit page: strokes on a canvas (pointer events: mouse, touch, pen), sent as a PNG to POST /api/predict
// a moment after the pen last moved; the answer drawn as bars, the top class large, and the 28x28 digit the model saw.
"use strict";
const pad = document.getElementById("pad");
const pen = pad.getContext("2d");
const seen = document.getElementById("seen").getContext("2d");
const topClass = document.getElementById("top");
const confidence = document.getElementById("confidence");
const bars = document.getElementById("bars");
let drawing = false, last = null, inked = false, timer = null, sent = 0;

function clearPad() {
  pen.fillStyle = "#fff";
  pen.fillRect(0, 0, pad.width, pad.height);
  seen.clearRect(0, 0, 28, 28);
  inked = false;
  sent++; // answers to earlier drawings are dropped
  topClass.textContent = "?";
  confidence.textContent = "Draw a digit in the box.";
  confidence.classList.remove("error");
  showBars(null);
  setState("empty");
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return { x: (event.clientX - box.left) * pad.width / box.width, y: (event.clientY - box.top) * pad.height / box.height };
}

function stroke(from, to) {
  pen.strokeStyle = "#000";
  pen.lineWidth = 18;
  pen.lineCap = pen.lineJoin = "round";
  pen.beginPath();
  pen.moveTo(from.x, from.y);
  pen.lineTo(to.x, to.y);
  pen.stroke();
  inked = true;
}

pad.addEventListener("pointerdown", e => {
  drawing = true;
  last = point(e);
  pad.setPointerCapture(e.pointerId);
  stroke(last, last);
  e.preventDefault();
});
pad.addEventListener("pointermove", e => {
  if (!drawing) return;
  const here = point(e);
  stroke(last, here);
  last = here;
  schedule();
});
["pointerup", "pointercancel"].forEach(type => pad.addEventListener(type, () => { if (drawing) { drawing = false; schedule(0); } }));

// body[data-state]: "drawing" from the first stroke after an answer until the answer to the latest drawing is shown
// ("answered") or refused ("refused"): what a test, or a screen reader's user, can wait for.
function setState(state) { document.body.dataset.state = state; }

function schedule(delay = 150) {
  setState("drawing");
  clearTimeout(timer);
  timer = setTimeout(predict, delay);
}

async function predict() {
  if (!inked) return;
  const ticket = ++sent;
  const blob = await new Promise(resolve => pad.toBlob(resolve, "image/png"));
  let answer;
  try {
    const response = await fetch("api/predict", { method: "POST", headers: { "Content-Type": "image/png" }, body: blob });
    answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
  } catch (error) {
    if (ticket !== sent) return;
    setState("refused");
    topClass.textContent = "?";
    confidence.textContent = error.message.startsWith("the picture is blank") ? "Draw a digit in the box." : error.message;
    confidence.classList.toggle("error", !error.message.startsWith("the picture is blank"));
    return;
  }
  if (ticket !== sent) return; // a newer drawing is on its way
  topClass.textContent = answer.prediction;
  confidence.textContent = `${(answer.probability * 100).toFixed(1)}% sure · ${answer.milliseconds} ms`;
  confidence.classList.remove("error");
  showBars(answer);
  showDigit(answer.digit);
  setState("answered");
}

function showBars(answer) {
  [...bars.children].forEach((row, i) => {
    const p = answer ? answer.probabilities[i] : 0;
    row.querySelector(".bar span").style.width = `${(p * 100).toFixed(1)}%`;
    row.querySelector(".pct").textContent = answer ? `${(p * 100).toFixed(1)}%` : "";
    row.classList.toggle("best", !!answer && i === answer.label);
    row.setAttribute("aria-label", `${row.dataset.name}: ${answer ? (p * 100).toFixed(1) + "%" : "no answer yet"}`);
  });
}

function showDigit(digit) {
  const image = seen.createImageData(28, 28);
  digit.forEach((v, i) => image.data.set([v, v, v, 255], i * 4));
  seen.putImageData(image, 0, 0);
}

async function describe() {
  const model = await (await fetch("api/model")).json();
  const accuracy = model.testAccuracy == null ? "" : ` · ${(model.testAccuracy * 100).toFixed(2)}% on ${model.dataset}'s test set`;
  document.getElementById("model").textContent =
    `${model.architecture} (${model.parameters.toLocaleString("en")} parameters) on ${model.runtime}${accuracy}`;
  bars.innerHTML = "";
  model.classes.forEach(name => {
    const row = document.createElement("li");
    row.dataset.name = name;
    row.innerHTML = `<span class="name"></span><span class="bar"><span></span></span><span class="pct"></span>`;
    row.querySelector(".name").textContent = name;
    bars.appendChild(row);
  });
  showBars(null);
}

document.getElementById("clear").addEventListener("click", clearPad);
document.addEventListener("keydown", e => { if (e.key === "Escape") clearPad(); });
clearPad();
describe();
