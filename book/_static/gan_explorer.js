// A live latent explorer: runs an exported ONNX generator in the reader's browser with
// onnxruntime-web (single-threaded WebAssembly) and draws its images to a canvas.
//
//   import { mount } from "../_static/gan_explorer.js";
//   mount(element, config);   // config: see gan_lessons/browser_widget.py (browser_explorer)
//
// The model and the runtime load when the element scrolls into view. Where WebAssembly is
// missing or loading fails, the element hides itself and the precomputed ("static") explorer
// that the page carries beside it stays visible; once the first live frame is drawn, that
// fallback is hidden. Tests drive `element.ganExplorer` (setLatent, render, lastRenderMs, state).
// Plain ES2020, no build step, no framework.

const STYLE_ID = "gan-explorer-style";
const CSS = `
.gan-explorer { max-width: 100%; box-sizing: border-box; margin: 0.5em 0; }
.gan-explorer canvas.gan-explorer-images { display: block; max-width: 100%; height: auto;
  image-rendering: pixelated; background: #ddd; }
.gan-explorer .gan-explorer-controls { display: grid; grid-template-columns: max-content
  minmax(6em, 20em) 4.5em; gap: 0.25em 0.6em; align-items: center; margin-top: 0.5em;
  max-width: 100%; }
.gan-explorer .gan-explorer-controls input[type=range] { width: 100%; min-width: 0; margin: 0; }
.gan-explorer .gan-explorer-controls output { font-variant-numeric: tabular-nums; }
.gan-explorer .gan-explorer-buttons { grid-column: 1 / -1; display: flex; flex-wrap: wrap;
  gap: 0.4em; }
.gan-explorer button, .gan-explorer select { font: inherit; padding: 0.1em 0.5em; }
.gan-explorer .gan-explorer-controls select { justify-self: start; max-width: 100%; }
.gan-explorer canvas.gan-explorer-plane { grid-column: 1 / -1; width: 16em; height: 16em;
  border: 1px solid #888; cursor: crosshair; }
.gan-explorer canvas.gan-explorer-plane:focus { outline: 2px solid #36c; }
.gan-explorer .gan-explorer-legend { grid-column: 1 / -1; display: flex; flex-wrap: wrap;
  gap: 0.1em 0.8em; font-size: 0.85em; }
.gan-explorer .gan-explorer-legend i { display: inline-block; width: 0.7em; height: 0.7em;
  margin-right: 0.25em; border-radius: 50%; }
.gan-explorer .gan-explorer-status { font-size: 0.85em; color: #555; margin: 0.3em 0 0; }
`;

// ------------------------------------------------------------------------------ numerics

/** A seedable PRNG (mulberry32): returns a function giving floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` standard normal floats from the uniform PRNG `rand` (Box–Muller, both outputs used). */
export function gaussian(rand, n) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - rand(); // in (0, 1]: log(u1) is finite
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** (1 - t) a + t b for one vector (Arrays or typed arrays of one length). */
export function lerp(a, b, t) {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
  return out;
}

/** Spherical interpolation between two vectors, as gan_lessons.latent.slerp: falls back to
 * lerp when either end is the zero vector or the two are (anti)parallel up to rounding
 * (|cos| >= 1 - 16 eps), where the great circle is undefined. */
export function slerp(a, b, t) {
  let n0 = 0, n1 = 0, dot = 0;
  for (let i = 0; i < a.length; i++) { n0 += a[i] * a[i]; n1 += b[i] * b[i]; }
  n0 = Math.sqrt(n0); n1 = Math.sqrt(n1);
  if (n0 === 0 || n1 === 0) return lerp(a, b, t);
  for (let i = 0; i < a.length; i++) dot += (a[i] / n0) * (b[i] / n1);
  const cos = Math.min(1, Math.max(-1, dot));
  if (Math.abs(cos) >= 1 - 16 * Number.EPSILON) return lerp(a, b, t);
  const omega = Math.acos(cos);
  const s = Math.sin(omega), s0 = Math.sin((1 - t) * omega), s1 = Math.sin(t * omega);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (s0 * a[i] + s1 * b[i]) / s;
  return out;
}

/** The grid layout of `n` images of `h` x `w` before upscaling, as torchvision's make_grid
 * (and so gan_lessons.widgets.images_to_png): `nrow` per row with 1 px white padding between
 * and around them; one image alone has no padding. */
export function gridLayout(n, h, w, nrow) {
  const pad = n > 1 ? 1 : 0;
  const cols = Math.min(nrow, n), rows = Math.ceil(n / cols);
  return { cols, rows, pad, width: cols * (w + pad) + pad, height: rows * (h + pad) + pad };
}

/** Images (N, C, H, W) in [-1, 1] (flat Float32Array) as RGBA pixels of the upscaled grid:
 * value = round((x + 1) * 127.5) clamped to 0..255, grey for C = 1, RGB for C = 3. */
export function imagesToPixels(data, [n, c, h, w], nrow, scale) {
  const grid = gridLayout(n, h, w, nrow);
  // the grid at scale 1, one opaque RGBA pixel per Uint32 (white padding)
  const small = new Uint32Array(grid.width * grid.height).fill(0xffffffff);
  const rgba = new Uint8ClampedArray(small.buffer);
  const plane = h * w;
  const toByte = (x) => Math.min(255, Math.max(0, Math.round((x + 1) * 127.5)));
  for (let k = 0; k < n; k++) {
    const x0 = (k % grid.cols) * (w + grid.pad) + grid.pad;
    const y0 = Math.floor(k / grid.cols) * (h + grid.pad) + grid.pad;
    const base = k * c * plane;
    for (let y = 0; y < h; y++) {
      let p = ((y0 + y) * grid.width + x0) * 4;
      for (let x = 0; x < w; x++, p += 4) {
        const i = base + y * w + x;
        const r = toByte(data[i]);
        rgba[p] = r;
        rgba[p + 1] = c === 3 ? toByte(data[i + plane]) : r;
        rgba[p + 2] = c === 3 ? toByte(data[i + 2 * plane]) : r;
      }
    }
  }
  // nearest-neighbour upscaling: each pixel repeated `scale` times along a row, then each row
  // copied `scale` times
  const W = grid.width * scale, H = grid.height * scale;
  const big = new Uint32Array(W * H);
  for (let y = 0, q = 0; y < grid.height; y++) {
    const row = y * scale * W;
    for (let x = 0, p = row; x < grid.width; x++, q++) {
      const v = small[q];
      for (let s = 0; s < scale; s++) big[p++] = v;
    }
    for (let dy = 1; dy < scale; dy++) big.copyWithin(row + dy * W, row, row + W);
  }
  return { pixels: new Uint8ClampedArray(big.buffer), width: W, height: H };
}

// ------------------------------------------------------------------------------ runtime

const runtimes = new Map(); // URL of the ort folder -> Promise of the ort module

/** onnxruntime-web's WASM build from the folder `ortUrl` (loaded once per page). */
export function loadRuntime(ortUrl) {
  if (!runtimes.has(ortUrl)) {
    runtimes.set(ortUrl, import(new URL("ort.wasm.min.mjs", ortUrl).href).then((ort) => {
      ort.env.wasm.numThreads = 1; // no SharedArrayBuffer in a static page
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmPaths = ortUrl; // the vendored .mjs/.wasm pair, never a CDN
      return ort;
    }));
  }
  return runtimes.get(ortUrl);
}

/** The URL of the book's _static folder: `config.static` if given, else from Sphinx's
 * `data-content_root` on <html> (the page's way back to the book's root), else "../_static/"
 * (a chapter page sits one folder below the root). */
export function staticUrl(config) {
  if (config.static) return new URL(config.static, document.baseURI).href;
  const root = document.documentElement.dataset.content_root;
  return new URL((root === undefined ? "../" : root) + "_static/", document.baseURI).href;
}

// ------------------------------------------------------------------------------ the widget

let uid = 0;

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key in node && key !== "list") node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

/** A labelled range input in the controls grid: label | slider | value. */
function slider(grid, text, { min, max, step, value, format = (v) => v.toFixed(2) }, onInput) {
  const id = `gan-explorer-${++uid}`;
  const out = el("output", { htmlFor: id, textContent: format(value) });
  const input = el("input", { type: "range", id, min, max, step, value });
  input.addEventListener("input", () => {
    out.textContent = format(Number(input.value));
    onInput(Number(input.value));
  });
  grid.append(el("label", { htmlFor: id, textContent: text }), input, out);
  return { input, set(v) { input.value = v; out.textContent = format(Number(input.value)); } };
}

function select(grid, text, options, value, onChange) {
  const id = `gan-explorer-${++uid}`;
  const input = el("select", { id }, options.map(([v, label]) => el("option", { value: v,
    textContent: label })));
  input.value = String(value);
  input.addEventListener("change", () => onChange(input.value));
  grid.append(el("label", { htmlFor: id, textContent: text }), input, el("span"));
  return input;
}

function check(config) {
  const need = ["model", "latent_dim", "image_shape", "inputs"];
  for (const key of need) {
    if (config[key] === undefined) throw new Error(`gan_explorer: config.${key} is missing`);
  }
}

class Explorer {
  constructor(element, config) {
    check(config);
    this.element = element;
    this.config = config;
    const d = config.latent_dim;
    const z0 = config.z0 ? Float32Array.from(config.z0.flat ? config.z0.flat() : config.z0)
      : null;
    this.n = z0 ? z0.length / d : (config.batch || 1);
    if (!Number.isInteger(this.n) || this.n < 1) {
      throw new Error(`gan_explorer: z0 must hold N * ${d} numbers`);
    }
    this.rand = mulberry32(config.seed || 0);
    this.lastRenderMs = null;
    this.state = {
      status: "idle", // idle -> loading -> ready | failed | unsupported
      error: null,
      a: z0 || gaussian(this.rand, this.n * d), // sample A (N, D), flat
      b: null, // sample B
      t: 0,
      path: "slerp",
      offsets: (config.directions || []).map(() => 0),
      label: 0,
      psi: 1,
      crossover: config.num_ws || 0,
      zMix: null,
      renders: 0,
      runMs: null,
    };
    this.state.b = gaussian(this.rand, this.n * d);
    if (config.inputs.includes("z_mix")) this.state.zMix = gaussian(this.rand, this.n * d);
    this.inflight = null;
    this.dirty = false;
    this.ready = new Promise((resolve, reject) => { this._ready = { resolve, reject }; });
    this.ready.catch(() => {}); // a failure is shown by the fallback, not as an error
  }

  // ---- state -> model inputs
  latent() {
    const { a, b, t, path, offsets } = this.state;
    const d = this.config.latent_dim, dirs = this.config.directions || [];
    const z = new Float32Array(this.n * d);
    for (let k = 0; k < this.n; k++) {
      const ra = a.subarray(k * d, (k + 1) * d), rb = b.subarray(k * d, (k + 1) * d);
      const row = t === 0 ? ra : t === 1 ? rb : (path === "slerp" ? slerp : lerp)(ra, rb, t);
      z.set(row, k * d);
      for (let j = 0; j < dirs.length; j++) {
        if (offsets[j] === 0) continue;
        const v = dirs[j].vector;
        for (let i = 0; i < d; i++) z[k * d + i] += offsets[j] * v[i];
      }
    }
    return z;
  }

  feeds() {
    const ort = this.ort, n = this.n, d = this.config.latent_dim, s = this.state;
    const feeds = { z: new ort.Tensor("float32", this.latent(), [n, d]) };
    const inputs = this.config.inputs;
    if (inputs.includes("labels")) {
      feeds.labels = new ort.Tensor("int64", new BigInt64Array(n).fill(BigInt(s.label)), [n]);
    }
    if (inputs.includes("psi")) feeds.psi = new ort.Tensor("float32", [s.psi], [1]);
    if (inputs.includes("z_mix")) feeds.z_mix = new ort.Tensor("float32", s.zMix, [n, d]);
    if (inputs.includes("crossover")) {
      feeds.crossover = new ort.Tensor("int64", BigInt64Array.from([BigInt(s.crossover)]), [1]);
    }
    return feeds;
  }

  // ---- rendering: one model run at a time; requests made meanwhile fold into one more run
  render() {
    if (this.inflight) {
      this.dirty = true;
      return this.inflight;
    }
    this.inflight = this.ready.then(async () => {
      try {
        do {
          this.dirty = false;
          await this._renderOnce();
        } while (this.dirty);
      } finally {
        this.inflight = null;
      }
    });
    return this.inflight;
  }

  async _renderOnce() {
    const start = performance.now();
    const result = await this.session.run(this.feeds());
    const ran = performance.now();
    const images = result.images;
    const [n, c, h, w] = images.dims;
    const { pixels, width, height } = imagesToPixels(images.data, [n, c, h, w], this.nrow,
      this.scale);
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    this.canvas.getContext("2d").putImageData(new ImageData(pixels, width, height), 0, 0);
    this.lastRenderMs = performance.now() - start;
    this.state.runMs = ran - start; // the model alone; the rest is drawing
    this.state.renders += 1;
    this.status.textContent = `drawn in ${this.lastRenderMs.toFixed(0)} ms (in your browser)`;
    this.drawPlane();
  }

  setLatent(array) {
    const d = this.config.latent_dim;
    const flat = Float32Array.from(Array.isArray(array) && Array.isArray(array[0])
      ? array.flat() : array);
    if (flat.length !== this.n * d || !flat.every(Number.isFinite)) {
      throw new Error(`setLatent: expected ${this.n} x ${d} finite numbers, got ${flat.length}`);
    }
    this.state.a = flat;
    this.resetPath();
  }

  /** Back to sample A itself: every direction slider and t at 0. */
  resetPath() {
    this.state.t = 0;
    this.state.offsets.fill(0);
    if (this.controls) {
      this.controls.t.set(0);
      this.controls.directions.forEach((s) => s.set(0));
    }
  }

  // ---- building the page
  build() {
    const { config, state } = this;
    const [, h, w] = config.image_shape;
    this.scale = config.scale || 4;
    this.nrow = config.nrow || Math.ceil(Math.sqrt(this.n));
    const grid = gridLayout(this.n, h, w, this.nrow);
    this.canvas = el("canvas", { className: "gan-explorer-images", role: "img",
      width: grid.width * this.scale, height: grid.height * this.scale,
      "aria-label": `${this.n} generated image${this.n > 1 ? "s" : ""}, drawn in your browser` });
    const controls = el("div", { className: "gan-explorer-controls" });
    const changed = (fn) => (v) => { fn(v); this.render(); };
    const directions = (config.directions || []).map((dir, j) => slider(controls, dir.name,
      { min: -config.span, max: config.span, step: config.span / 50, value: 0 },
      changed((v) => { state.offsets[j] = v; })));
    const t = slider(controls, "t (A \u2192 B)", { min: 0, max: 1, step: 0.01, value: 0 },
      changed((v) => { state.t = v; }));
    select(controls, "path", [["slerp", "slerp (arc)"], ["lerp", "lerp (line)"]], state.path,
      changed((v) => { state.path = v; }));
    const buttons = el("div", { className: "gan-explorer-buttons" });
    const d = config.latent_dim;
    const button = (text, onClick) => {
      const b = el("button", { type: "button", textContent: text });
      b.addEventListener("click", () => { onClick(); this.render(); });
      buttons.append(b);
    };
    button("new sample A", () => { state.a = gaussian(this.rand, this.n * d); this.resetPath(); });
    button("new sample B", () => { state.b = gaussian(this.rand, this.n * d); });
    this.controls = { directions, t };
    if (config.inputs.includes("labels")) {
      const names = config.class_names
        || Array.from({ length: config.num_classes }, (_, k) => String(k));
      select(controls, "class", names.map((name, k) => [k, name]), 0,
        changed((v) => { state.label = Number(v); }));
    }
    if (config.inputs.includes("psi")) {
      slider(controls, "truncation \u03c8", { min: 0, max: 1, step: 0.05, value: 1 },
        changed((v) => { state.psi = v; }));
    }
    if (config.inputs.includes("crossover")) {
      const m = config.num_ws;
      slider(controls, "mix styles from", { min: 0, max: m, step: 1, value: m,
        format: (v) => (v >= m ? "none" : `layer ${v}`) }, changed((v) => { state.crossover = v; }));
      button("new mix sample", () => { state.zMix = gaussian(this.rand, this.n * d); });
    }
    controls.append(buttons);
    if (config.plane) controls.append(...this.buildPlane(config.plane));
    this.status = el("p", { className: "gan-explorer-status",
      textContent: "loading the model\u2026" });
    this.element.replaceChildren(el("div", { className: "gan-explorer" },
      [this.canvas, controls, this.status]));
  }

  /** A clickable latent plane for a 2-D latent: click (or arrow keys) to decode that point.
   * Returns the plane's canvas, and a legend when its backdrop points carry class labels. */
  buildPlane({ extent, points, labels, palette }) {
    const [x0, x1, y0, y1] = extent;
    const plane = el("canvas", { className: "gan-explorer-plane", width: 256, height: 256,
      tabIndex: 0, role: "application" });
    this.plane = plane;
    this.backdrop = points ? this.drawBackdrop(plane, extent, points, labels, palette) : null;
    const pick = (x, y) => {
      const row = Float32Array.from([x, y]);
      for (let k = 0; k < this.n; k++) this.state.a.set(row, k * 2);
      this.resetPath();
      this.render();
    };
    plane.addEventListener("click", (event) => {
      const box = plane.getBoundingClientRect();
      const u = (event.clientX - box.left) / box.width, v = (event.clientY - box.top) / box.height;
      pick(x0 + u * (x1 - x0), y1 - v * (y1 - y0)); // y grows upwards
    });
    plane.addEventListener("keydown", (event) => {
      const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
      if (!(event.key in step)) return;
      event.preventDefault();
      const z = this.latent();
      const [dx, dy] = step[event.key];
      pick(Math.min(x1, Math.max(x0, z[0] + dx * (x1 - x0) / 40)),
        Math.min(y1, Math.max(y0, z[1] + dy * (y1 - y0) / 40)));
    });
    if (!labels) return [plane];
    const legend = el("div", { className: "gan-explorer-legend", role: "list",
      "aria-label": "colours of the points' classes" });
    for (let k = 0; k < palette.length; k++) {
      legend.append(el("span", { role: "listitem" },
        [el("i", { style: `background: ${palette[k]}` }), String(k)]));
    }
    return [plane, legend];
  }

  /** The plane's backdrop, drawn once: the `points` (flat x, y pairs), coloured by `labels`
   * where given, on a transparent offscreen canvas that `drawPlane` copies over its axes. */
  drawBackdrop(plane, [x0, x1, y0, y1], points, labels, palette) {
    const W = plane.width, H = plane.height;
    const canvas = el("canvas", { width: W, height: H });
    const ctx = canvas.getContext("2d");
    ctx.globalAlpha = 0.7;
    for (let i = 0; i < points.length / 2; i++) {
      ctx.fillStyle = labels ? palette[labels[i]] : "#555";
      const x = ((points[2 * i] - x0) / (x1 - x0)) * W;
      const y = (1 - (points[2 * i + 1] - y0) / (y1 - y0)) * H;
      ctx.fillRect(x - 1, y - 1, 2, 2);
    }
    return canvas;
  }

  drawPlane() {
    if (!this.plane) return;
    const [x0, x1, y0, y1] = this.config.plane.extent;
    const ctx = this.plane.getContext("2d"), W = this.plane.width, H = this.plane.height;
    const px = (x) => ((x - x0) / (x1 - x0)) * W, py = (y) => (1 - (y - y0) / (y1 - y0)) * H;
    ctx.fillStyle = "#f6f6f6";
    ctx.fillRect(0, 0, W, H);
    ctx.strokeStyle = "#bbb";
    ctx.beginPath(); // the axes through the origin
    ctx.moveTo(px(0), 0); ctx.lineTo(px(0), H); ctx.moveTo(0, py(0)); ctx.lineTo(W, py(0));
    ctx.stroke();
    if (this.backdrop) ctx.drawImage(this.backdrop, 0, 0);
    const z = this.latent(); // the decoded point: black, ringed in white over the backdrop
    ctx.beginPath();
    ctx.arc(px(z[0]), py(z[1]), 4.5, 0, 2 * Math.PI);
    ctx.fillStyle = "#000";
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
    this.plane.setAttribute("aria-label", `latent plane at z = (${z[0].toFixed(2)}, `
      + `${z[1].toFixed(2)}): click a point or use the arrow keys to decode it`);
  }

  // ---- loading and the fallback
  async load() {
    this.state.status = "loading";
    try {
      const root = staticUrl(this.config);
      this.ort = await loadRuntime(new URL(this.config.ort || "vendor/ort/", root).href);
      this.session = await this.ort.InferenceSession.create(
        new URL(this.config.model, root).href, { executionProviders: ["wasm"] });
      const missing = this.config.inputs.filter((name) => !this.session.inputNames.includes(name));
      if (missing.length) throw new Error(`the model has no input(s) ${missing.join(", ")}`);
      this.state.status = "ready";
      this._ready.resolve();
      await this.render();
      this.hideFallback();
    } catch (error) {
      this.fail("failed", error);
    }
  }

  fail(status, error) {
    this.state.status = status;
    this.state.error = String(error && error.message ? error.message : error);
    this.element.hidden = true; // the static explorer beside it stays
    if (status === "failed") console.warn("gan_explorer: live explorer unavailable:", error);
    this._ready.reject(error);
  }

  hideFallback() {
    const name = this.config.fallback_class;
    if (!name || !/^[\w-]+$/.test(name)) return;
    // a style rule rather than the element: the widget manager may draw the fallback later
    document.head.append(el("style", { textContent: `.${name} { display: none !important; }` }));
  }
}

function addStyle() {
  if (document.getElementById(STYLE_ID)) return;
  document.head.append(el("style", { id: STYLE_ID, textContent: CSS }));
}

/** Builds a live explorer in `element` from `config` (an object, or a JSON string) and
 * returns its test hook, also set as `element.ganExplorer`: `setLatent(array)` (sample A, with
 * every slider back at 0), `render()` (a Promise resolved once the canvas is drawn),
 * `lastRenderMs`, `state`, and `ready` (a Promise resolved once the model has loaded). */
export function mount(element, config) {
  if (typeof config === "string") config = JSON.parse(config);
  const explorer = new Explorer(element, config);
  const hook = {
    setLatent: (array) => explorer.setLatent(array),
    render: () => explorer.render(),
    get lastRenderMs() { return explorer.lastRenderMs; },
    get state() { return explorer.state; },
    ready: explorer.ready,
    latent: () => explorer.latent(),
  };
  element.ganExplorer = hook;
  if (typeof WebAssembly !== "object") {
    explorer.fail("unsupported", new Error("this browser has no WebAssembly"));
    return hook;
  }
  addStyle();
  explorer.build();
  element.hidden = false;
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) {
      observer.disconnect();
      explorer.load();
    }
  }, { rootMargin: "200px" });
  observer.observe(element);
  return hook;
}
