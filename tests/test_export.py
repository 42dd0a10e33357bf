"""ONNX export of every bundled generator and decoder, checked against PyTorch with ONNX Runtime
(an oracle independent of the export's own check: the models' public methods)."""

import json

import onnx
import onnxruntime
import pytest
import torch

from gan_lessons import export
from gan_lessons.export import export_onnx, onnx_spec
from gan_lessons.models import StyleGANConfig, build_gan
from gan_lessons.pretrained import load_pretrained, pretrained_names

#: every bundled checkpoint whose generator or autoencoder takes a latent z (one of the 30 ring
#: generators, which share their architecture; the pix2pix and super-resolution networks take
#: images, not z)
LATENT_MODELS = [name for name in pretrained_names()
                 if not name.startswith(("ring_", "feature_", "p2p_", "l1_", "sr"))]
LATENT_MODELS.append("ring_z16_ns_s0")


def _model(name: str) -> torch.nn.Module:
    models = load_pretrained(name)
    return models.get("generator", models.get("autoencoder"))


def _run(path, feeds: dict[str, torch.Tensor]) -> torch.Tensor:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert sorted(i.name for i in session.get_inputs()) == sorted(feeds)
    (out,) = session.run(None, {k: v.numpy() for k, v in feeds.items()})
    return torch.from_numpy(out)


def _reference(model, spec, feeds) -> torch.Tensor:
    """What the model's own public methods give for ``feeds``."""
    with torch.no_grad():
        if spec["kind"] == "decoder":
            return model.decode(feeds["z"])
        if spec["kind"] == "conditional":
            return model(feeds["z"], feeds["labels"])
        if spec["kind"] == "stylegan":
            psi, cut = float(feeds["psi"]), int(feeds["crossover"])
            labels = feeds.get("labels")
            ws = model.w_plus(feeds["z"], labels, psi)
            ws[:, cut:] = model.w_plus(feeds["z_mix"], labels, psi)[:, cut:]
            return model.synthesis(ws, "const")
        return model(feeds["z"])


def _feeds(spec, n: int, *, crossover: int = 2) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(n)
    feeds = {"z": torch.randn(n, spec["latent_dim"], generator=gen)}
    if spec["kind"] == "stylegan":
        feeds.update(psi=torch.tensor([0.6]), crossover=torch.tensor([crossover]),
                     z_mix=torch.randn(n, spec["latent_dim"], generator=gen))
    if spec["num_classes"]:
        feeds["labels"] = torch.randint(0, spec["num_classes"], (n,), generator=gen)
    return feeds


@pytest.mark.parametrize("name", LATENT_MODELS)
def test_bundled_model_runs_in_onnx_runtime_like_pytorch(name, tmp_path):
    model = _model(name)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    path = export_onnx(model, tmp_path / f"{name}.onnx")
    assert path == tmp_path / f"{name}.onnx"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # one file, no leftovers
    spec = onnx_spec(model)
    for n in (1, 7):  # the batch dimension is dynamic
        feeds = _feeds(spec, n)
        out, expected = _run(path, feeds), _reference(model, spec, feeds)
        assert out.shape == expected.shape == (n, *spec["image_shape"])
        torch.testing.assert_close(out, expected, atol=1e-4, rtol=0)
    stored = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(stored["gan_lessons"]) == spec
    for key, value in model.state_dict().items():  # the model itself is untouched
        assert torch.equal(value, before[key]), key
    assert not model.training


def test_specs_name_the_inputs_of_each_kind():
    specs = {name: onnx_spec(_model(name)) for name in
             ("dcgan_mnist", "cgan_mnist", "stylegan_mnist", "conv_vae_mnist", "ring_z2_ns_s0")}
    assert specs["dcgan_mnist"]["inputs"] == ["z"]
    assert specs["cgan_mnist"]["inputs"] == ["z", "labels"]
    assert specs["cgan_mnist"]["num_classes"] == 10
    assert specs["stylegan_mnist"]["inputs"] == ["z", "psi", "z_mix", "crossover"]
    assert specs["stylegan_mnist"]["num_ws"] == 6
    assert specs["conv_vae_mnist"] | {"inputs": None} == {
        "kind": "decoder", "latent_dim": 2, "num_classes": None, "num_ws": None,
        "inputs": None, "image_shape": [1, 28, 28], "output": "images"}
    assert specs["ring_z2_ns_s0"]["output"] == "samples"  # 2-D points, not images
    assert specs["ring_z2_ns_s0"]["image_shape"] == [2]


@pytest.mark.parametrize("crossover", [3, 6])
def test_style_mixing_and_truncation_of_a_conditional_stylegan(crossover, tmp_path):
    torch.manual_seed(0)
    g, _ = build_gan("stylegan", StyleGANConfig(image_size=16, channels=1, z_dim=4, w_dim=4,
                                                width=4, max_width=4, num_classes=3))
    g.eval()
    with torch.no_grad():
        g.w_avg.normal_()  # a trained w_avg is not 0: truncation must use it
    path = export_onnx(g, tmp_path / "g.onnx")
    spec = onnx_spec(g)
    assert spec["inputs"] == ["z", "psi", "z_mix", "crossover", "labels"]
    feeds = _feeds(spec, 5, crossover=crossover)
    torch.testing.assert_close(_run(path, feeds), _reference(g, spec, feeds), atol=1e-4, rtol=0)
    if crossover == 6:  # no mixing: the plain forward pass, truncated
        with torch.no_grad():
            plain = g(feeds["z"], feeds["labels"], 0.6, "const")
        torch.testing.assert_close(_run(path, feeds), plain, atol=1e-4, rtol=0)


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    model = _model("conv_vae_mnist")
    path = tmp_path / "vae.onnx"
    path.write_bytes(b"mine")
    with pytest.raises(ValueError, match="already exists; pass overwrite=True"):
        export_onnx(model, path)
    assert path.read_bytes() == b"mine"
    export_onnx(model, path, overwrite=True)
    assert _run(path, {"z": torch.zeros(1, 2)}).shape == (1, 1, 28, 28)


def test_an_export_that_differs_from_pytorch_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "_largest_error", lambda *args: 0.5)
    with pytest.raises(RuntimeError, match=r"differs from PyTorch by 0\.5"):
        export_onnx(_model("conv_vae_mnist"), tmp_path / "vae.onnx")
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary


def test_a_model_on_another_device_or_dtype_is_exported_as_float32(tmp_path):
    model = _model("conv_vae_mnist").double()
    path = export_onnx(model, tmp_path / "vae.onnx")
    assert next(model.parameters()).dtype == torch.float64  # the caller's model is unchanged
    z = torch.randn(3, 2)
    torch.testing.assert_close(_run(path, {"z": z}), model.decode(z.double()).float(),
                               atol=1e-4, rtol=0)
