"""A live latent explorer that runs the generator in the reader's browser (onnxruntime-web).

The rendered book has no kernel, so its other explorers switch between precomputed frames
(:func:`gan_lessons.widgets.static_latent_explorer`). :func:`browser_explorer` exports the
generator to ONNX (:func:`gan_lessons.export.export_onnx`) into the book's ``_static`` folder
and displays two outputs:

1. a ``<div>`` and a ``<script>`` that loads ``_static/gan_explorer.js``, which runs the model
   with onnxruntime-web (single-threaded WebAssembly, loaded when the widget scrolls into
   view) and draws to a canvas: sliders along latent directions, new samples drawn in the
   browser, lerp/slerp between two samples, a class picker, StyleGAN's truncation and style
   mixing, and a clickable latent plane for a 2-D latent (optionally over a backdrop of
   points, such as the codes of test images coloured by class);
2. a fallback, by default the static explorer of the same generator, carrying the CSS class
   ``gan-lessons-fallback-<id>``: the script hides it once the live canvas is drawn, and hides
   itself instead where WebAssembly is missing or the model fails to load.

In the book a chapter page is ``_build/html/book/<chapter>.html`` and ``book/_static`` is
copied to ``_build/html/_static``: the script finds it through Sphinx's ``data-content_root``
(``"../"``), so the config holds paths relative to ``_static``. In JupyterLab the kernel tells
the page where ``_static`` is on disk, and the page serves it through the Jupyter server's
``/files/`` route when it lies below the server's root folder. The runtime itself is vendored
into ``book/_static/vendor/ort/`` by ``scripts/setup.sh``.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gan_lessons._validate import check_float, check_int

__all__ = ["BrowserExplorer", "browser_explorer"]

LIVE_CLASS = "gan-lessons-browser-explorer"
FALLBACK_CLASS = "gan-lessons-fallback-"  # + the explorer's id
MAX_BATCH = 256  # images drawn at once (a 16 x 16 grid)
MAX_PLANE_POINTS = 5000  # backdrop points on the latent plane (about 15 bytes each in the page)
# the backdrop's class colours: matplotlib's "tab10", as the book's scatter plots use
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


class BrowserExplorer:
    """What :func:`browser_explorer` returns; displaying it shows the live explorer's HTML and,
    below it, the fallback widget.

    Attributes:
        html: the HTML output (container ``<div>``, JSON config, loader ``<script>``), or ``""``
            when there is no ``_static`` folder to serve the model from.
        fallback: the fallback ipywidget.
        config: the config that ``gan_explorer.js``'s ``mount`` reads.
        model_path: the exported ``.onnx`` file (None without a ``_static`` folder).
    """

    def __init__(self, html: str, fallback, config: dict[str, Any], model_path: Path | None):
        self.html, self.fallback, self.config, self.model_path = html, fallback, config, model_path

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        if self.html:
            display(HTML(self.html))
        display(self.fallback)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/html": self.html, "text/plain": repr(self)}

    def __repr__(self) -> str:
        return (f"BrowserExplorer(kind={self.config.get('kind')!r}, "
                f"model={self.config.get('model')!r})")


# --------------------------------------------------------------------------- argument checks


def _check_generator(generator) -> int:
    """``generator``'s ``latent_dim``; it must be a module (what the export takes)."""
    from torch import nn

    from gan_lessons.latent import check_latent_generator

    latent_dim, _ = check_latent_generator(generator)
    if not isinstance(generator, nn.Module):
        raise TypeError(f"generator must be an nn.Module (a generator or an autoencoder), got "
                        f"{type(generator).__name__}")
    return latent_dim


def _check_z0(z0, latent_dim: int, seed: int):
    """``z0`` as a float32 ``(N, D)`` tensor; None draws one ``z ~ N(0, I)`` from ``seed``."""
    import torch

    if z0 is None:
        return torch.randn(1, latent_dim, generator=torch.Generator().manual_seed(seed))
    if not isinstance(z0, torch.Tensor):
        raise TypeError(f"z0 must be a torch.Tensor (D,) or (N, D), got {type(z0).__name__}")
    if not z0.is_floating_point():
        raise TypeError(f"z0 must be a floating-point tensor, got dtype {z0.dtype}")
    rows = z0[None] if z0.ndim == 1 else z0
    if rows.ndim != 2 or rows.shape[1] != latent_dim or not 1 <= rows.shape[0] <= MAX_BATCH:
        raise ValueError(f"z0 must have shape ({latent_dim},) or (N, {latent_dim}) with "
                         f"1 <= N <= {MAX_BATCH}, got {tuple(z0.shape)}")
    if not bool(torch.isfinite(rows).all()):
        raise ValueError("z0 must be finite, got NaN or inf")
    return rows.detach().float().cpu()


def _check_classes(classes, num_classes: int | None) -> list[str] | None:
    if classes is None:
        return None if num_classes is None else [str(k) for k in range(num_classes)]
    if num_classes is None:
        raise ValueError("classes must be None for a generator without class labels")
    if isinstance(classes, str | bytes) or not isinstance(classes, Sequence):
        raise TypeError(f"classes must be a list of {num_classes} labels, got "
                        f"{type(classes).__name__}")
    if len(classes) != num_classes:
        raise ValueError(f"classes must have one label per class ({num_classes}), got "
                         f"{len(classes)}")
    return [str(c) for c in classes]


def _check_extent(extent, latent_dim: int, span: float) -> list[float] | None:
    if latent_dim != 2:
        if extent is not None:
            raise ValueError(f"plane_extent needs a 2-D latent, the generator's latent_dim is "
                             f"{latent_dim}")
        return None
    if extent is None:
        return [-span, span, -span, span]
    if isinstance(extent, str | bytes) or not isinstance(extent, Sequence) or len(extent) != 4:
        raise TypeError(f"plane_extent must be (x_min, x_max, y_min, y_max), got {extent!r}")
    x0, x1, y0, y1 = (check_float(v, "plane_extent") for v in extent)
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"plane_extent must have x_min < x_max and y_min < y_max, got "
                         f"{tuple(extent)}")
    return [x0, x1, y0, y1]


def _check_backdrop(points, labels, latent_dim: int) -> dict[str, list] | None:
    """``plane_points`` (M, 2) and ``plane_labels`` (M,) as JSON lists (3 decimals)."""
    import numpy as np
    import torch

    from gan_lessons.models.conditional import check_labels

    if points is None:
        if labels is not None:
            raise ValueError("plane_labels needs plane_points (the points they colour)")
        return None
    if latent_dim != 2:
        raise ValueError(f"plane_points needs a 2-D latent, the generator's latent_dim is "
                         f"{latent_dim}")
    if not isinstance(points, torch.Tensor | np.ndarray):
        raise TypeError(f"plane_points must be a tensor or array (M, 2), got "
                        f"{type(points).__name__}")
    points = torch.as_tensor(points).detach().cpu()
    if not points.is_floating_point() or points.ndim != 2 or points.shape[1] != 2 \
            or not 1 <= len(points) <= MAX_PLANE_POINTS:
        raise ValueError(f"plane_points must be floating-point with shape (M, 2), 1 <= M <= "
                         f"{MAX_PLANE_POINTS}, got {points.dtype} {tuple(points.shape)}")
    if not bool(torch.isfinite(points).all()):
        raise ValueError("plane_points must be finite, got NaN or inf")
    backdrop = {"points": [round(v, 3) for v in points.double().flatten().tolist()]}
    if labels is not None:
        if not isinstance(labels, torch.Tensor | np.ndarray | Sequence) \
                or isinstance(labels, str | bytes):
            raise TypeError(f"plane_labels must be integers (M,), got {type(labels).__name__}")
        labels = check_labels(torch.as_tensor(labels).detach().cpu(), len(points),
                              len(PALETTE), name="plane_labels")  # one colour per class
        backdrop["labels"] = labels.tolist()
        backdrop["palette"] = list(PALETTE[:int(labels.max()) + 1])
    return backdrop


def _static_dir(model_dir) -> tuple[Path, Path] | None:
    """``(model folder, the _static folder above it)``; None without a ``./_static``."""
    if model_dir is None:
        static = Path("_static")
        return (static / "models", static) if static.is_dir() else None
    if not isinstance(model_dir, str | os.PathLike):
        raise TypeError(f"model_dir must be a str, a path or None, got {type(model_dir).__name__}")
    folder = Path(os.path.abspath(Path(model_dir).expanduser()))  # (symbolic links kept)
    static = next((p for p in (folder, *folder.parents) if p.name == "_static"), None)
    if static is None:
        raise ValueError(f"model_dir must be inside a folder named _static (the book serves "
                         f"files from there), got {model_dir}")
    return folder, static


def _server_static(static: Path) -> dict[str, Any] | None:
    """Where ``static`` is on this machine, for a kernel that a Jupyter server started
    (``JPY_SESSION_NAME`` set): the page then finds it below the server's root folder, through
    the ``/files/`` route. None otherwise, so that no local path goes into the built book.

    The server may reach the notebook's folder through a symbolic link, which the kernel's
    working directory has resolved; ``JPY_SESSION_NAME`` (the notebook's path as the server
    sees it) gives that form back."""
    session = os.environ.get("JPY_SESSION_NAME")
    if session is None:
        return None
    paths = [os.path.abspath(static), os.path.realpath(static)]
    seen_from = os.path.dirname(session)
    if os.path.isabs(seen_from) and os.path.realpath(seen_from) == os.getcwd():
        paths.insert(0, os.path.normpath(os.path.join(seen_from, os.path.relpath(static))))
    return {"paths": list(dict.fromkeys(Path(p).as_posix() for p in paths)),
            "home": Path.home().as_posix()}


# --------------------------------------------------------------------------- export, fallback


def _weights_hash(generator, spec: dict[str, Any]) -> str:
    """A content hash of the generator's weights and buffers, and of how it is exported (the
    export module's source: a changed export writes new files)."""
    import torch

    from gan_lessons import export

    digest = hashlib.sha256(json.dumps([type(generator).__name__, spec]).encode())
    digest.update(Path(export.__file__).read_bytes())
    for name, tensor in generator.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.flatten().view(torch.uint8).numpy().tobytes())  # the raw bytes
    return digest.hexdigest()[:16]


def _export(generator, spec: dict[str, Any], folder: Path) -> Path:
    """The ``.onnx`` file of ``generator`` in ``folder``, exported unless it is there already."""
    from gan_lessons.export import export_onnx

    path = folder / f"{spec['kind']}-{_weights_hash(generator, spec)}.onnx"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        export_onnx(generator, path, overwrite=True)
    return path


class _ConstNoise:
    """A StyleGAN generator with its stored noise (``noise_mode="const"``), as the export: the
    fallback's frames then match the live explorer's."""

    def __init__(self, generator):
        self.generator, self.latent_dim = generator, generator.latent_dim
        self.num_classes = generator.config.num_classes or None

    def __call__(self, z, labels=None):
        return self.generator(z, labels, noise_mode="const")


def _default_fallback(generator, kind: str, z0, directions, names, classes, *, span: float,
                      positions: int, scale: int):
    from gan_lessons.widgets import static_conditional_explorer, static_latent_explorer

    decoder = (generator.decode if kind == "decoder" else
               _ConstNoise(generator) if kind == "stylegan" else generator)
    was_training = generator.training
    generator.eval()
    try:
        if classes is not None:
            return static_conditional_explorer(decoder, z0, directions[0], classes=classes,
                                               span=span, positions=positions, scale=scale,
                                               name=names[0])
        return static_latent_explorer(decoder, z0, directions[:2], names[:2], span=span,
                                      positions=positions, scale=scale)
    finally:
        generator.train(was_training)


# --------------------------------------------------------------------------- the explorer


def _html(config: dict[str, Any]) -> str:
    """The container, the config (JSON, with ``</`` escaped) and the loader script."""
    ident = config["id"]
    data = json.dumps(config, separators=(",", ":")).replace("</", "<\\/")
    return f"""<div id="gan-explorer-{ident}" class="{LIVE_CLASS}" hidden></div>
<script type="application/json" id="gan-explorer-{ident}-config">{data}</script>
<script>
(function () {{
  var config = JSON.parse(document.getElementById("gan-explorer-{ident}-config").textContent);
  var root = document.documentElement.dataset.content_root;
  var lab = document.getElementById("jupyter-config-data");
  if (!config.static && root === undefined && lab && config.server_static) {{
    /* JupyterLab: _static through the server's /files/ route, below its root folder */
    var page = JSON.parse(lab.textContent), local = config.server_static;
    if (typeof page.serverRoot !== "string") return;
    var top = page.serverRoot.replace(/^~(?=[/]|$)/, local.home).replace(/[/]+$/, "");
    var inside = local.paths.filter(function (p) {{ return p.startsWith(top + "/"); }})[0];
    if (inside === undefined) return; /* not served by this server: the fallback stays */
    config.static = (page.baseUrl || "/") + "files/" +
      inside.slice(top.length + 1).split("/").map(encodeURIComponent).join("/") + "/";
  }}
  config.static = new URL(config.static || ((root === undefined ? "../" : root) + "_static/"),
                          document.baseURI).href;
  import(new URL("gan_explorer.js", config.static).href).then(function (module) {{
    module.mount(document.getElementById("gan-explorer-{ident}"), config);
  }}).catch(function (error) {{ console.warn("gan_explorer: not loaded:", error); }});
}})();
</script>"""


def browser_explorer(generator, z0=None, directions=None, names=None, *, span: float = 3.0,
                     scale: int = 4, nrow: int | None = None, fallback=None, model_dir=None,
                     classes: Sequence[str] | None = None, seed: int = 0,
                     positions: int = 9, plane_extent: Sequence[float] | None = None,
                     plane_points=None, plane_labels=None,
                     static_url: str | None = None) -> BrowserExplorer:
    """A latent explorer that runs ``generator`` in the reader's browser, with a static fallback.

    Args:
        generator: an image generator with an int ``latent_dim`` (``DCGANGenerator``,
            ``MLPGenerator``, ``ConditionalGenerator``, ``StyleGANGenerator``) or an
            autoencoder (its ``decode`` runs); what :func:`gan_lessons.export.export_onnx`
            takes.
        z0: ``(D,)`` or ``(N, D)``: the first sample (``N`` images drawn as a grid); default
            one ``z ~ N(0, I)`` drawn from ``seed``.
        directions: ``(K, D)``, one slider per row, offsets in ``[-span, span]``; default the
            first (up to 4) latent axes.
        names: the sliders' labels (default ``"dir 0"``, ...).
        span: the sliders' range.
        scale: each image pixel is drawn as ``scale`` x ``scale`` screen pixels.
        nrow: images per row of the grid (default ``ceil(sqrt(N))``).
        fallback: the ipywidget shown where the live explorer cannot run; default the static
            explorer of the first (one or two) directions and the first sample
            (:func:`~gan_lessons.widgets.static_conditional_explorer` for class labels).
        model_dir: where the ``.onnx`` file goes, inside a folder named ``_static``; default
            ``./_static/models`` when ``./_static`` exists (a notebook run in ``book/``). The
            file is named by a hash of the weights, so rebuilding reuses it. Without a
            ``_static`` folder only the fallback is shown. In JupyterLab the page loads the
            model through the server's ``/files/`` route, so ``_static`` must lie below the
            server's root folder (``jupyter lab book/`` does).
        classes: the class picker's labels (conditional generators; default ``"0"``, ...).
        seed: seeds the browser's random samples (and the default ``z0``).
        positions: slider positions of the default fallback.
        plane_extent: ``(x_min, x_max, y_min, y_max)`` of the clickable plane shown for a 2-D
            latent (default ``[-span, span]`` on both axes).
        plane_points: ``(M, 2)``, at most 5000: points drawn on the plane, e.g. the codes of
            test images, so the reader sees where the data lie (2-D latent only).
        plane_labels: ``(M,)`` ints in ``[0, 9]``: colours the points by class (matplotlib's
            ``tab10`` colours) and adds a legend; default all one colour.
        static_url: the URL of ``_static`` from the page; default what Sphinx's
            ``data-content_root`` gives (``"../_static/"`` for a chapter page).

    Returns:
        A :class:`BrowserExplorer`; displaying it shows the live explorer, then the fallback.
    """
    import torch

    from gan_lessons.export import onnx_spec
    from gan_lessons.widgets import _latent_inputs

    d = _check_generator(generator)
    seed = check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    z0 = _check_z0(z0, d, seed)
    span = check_float(span, "span", 0.0, exclusive_minimum=True)
    scale = check_int(scale, "scale", minimum=1, maximum=32)
    nrow = None if nrow is None else check_int(nrow, "nrow", minimum=1)
    positions = check_int(positions, "positions", minimum=2)
    if directions is not None and isinstance(directions, torch.Tensor):
        directions = directions.detach().cpu()
    _, directions, names = _latent_inputs(generator, z0[0], directions, names)
    names = [str(name) for name in names]
    if static_url is not None and not isinstance(static_url, str):
        raise TypeError(f"static_url must be a str or None, got {type(static_url).__name__}")
    if fallback is not None and not callable(getattr(fallback, "add_class", None)):
        raise TypeError(f"fallback must be an ipywidgets widget or None, got "
                        f"{type(fallback).__name__}")
    folders = _static_dir(model_dir)
    spec = onnx_spec(generator)
    if spec["output"] != "images" or spec["image_shape"][0] not in (1, 3):
        raise ValueError(f"generator must make images (N, 1 or 3, H, W), its output has shape "
                         f"(N, {', '.join(map(str, spec['image_shape']))})")
    classes = _check_classes(classes, spec["num_classes"])
    extent = _check_extent(plane_extent, d, span)
    backdrop = _check_backdrop(plane_points, plane_labels, d)

    ident = uuid.uuid4().hex[:12]
    if fallback is None:
        fallback = _default_fallback(generator, spec["kind"], z0[0], directions, names, classes,
                                     span=span, positions=positions, scale=scale)
    fallback.add_class(FALLBACK_CLASS + ident)
    config: dict[str, Any] = {
        "id": ident, "kind": spec["kind"], "inputs": spec["inputs"], "latent_dim": d,
        "image_shape": spec["image_shape"], "num_classes": spec["num_classes"],
        "class_names": classes, "num_ws": spec["num_ws"],
        "z0": [round(v, 6) for v in z0.flatten().tolist()], "batch": int(z0.shape[0]),
        "directions": [{"name": name, "vector": [round(v, 6) for v in row]}
                       for name, row in zip(names, directions.float().tolist(), strict=True)],
        "span": span, "scale": scale, "nrow": nrow, "seed": seed,
        "plane": None if extent is None else {"extent": extent, **(backdrop or {})},
        "fallback_class": FALLBACK_CLASS + ident, "static": static_url,
        "ort": "vendor/ort/", "model": None,
    }
    if folders is None:  # nowhere to serve the model from: the fallback alone
        return BrowserExplorer("", fallback, config, None)
    folder, static = folders
    path = _export(generator, spec, folder)
    config["model"] = Path(os.path.relpath(path, static)).as_posix()
    config["server_static"] = _server_static(static)
    return BrowserExplorer(_html(config), fallback, config, path)
