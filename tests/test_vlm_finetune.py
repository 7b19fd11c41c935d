"""`facescan finetune` (the FaceScanPaliGemma recipe) on a tiny random PaliGemma and real
UTKFace chips: the loss falls, the saved adapter reloads to identical logits, the merged
model loads, a resumed run ends where an uninterrupted one does, and the backend uses it."""

import json

import numpy as np
import pytest

from facescan import cli
from facescan.labels import GENDER
from facescan.vlm import make_backend
from facescan.vlm.finetune import FinetuneConfig, examples, finetune

QUESTION = "what is the gender of the person in the image?"


def _config(tiny_vlms, utkface_dir, out, **kw):
    base = {"dataset": f"utkface:{utkface_dir}", "attribute": "gender", "out": str(out),
                "base": str(tiny_vlms["paligemma"]), "limit": 16, "batch_size": 4, "grad_accum": 1, "lr": 5e-3,
                "lora_r": 16, "max_steps": 6, "val_every": 3, "val_samples": 4, "seed": 0}
    return FinetuneConfig(**{**base, **kw})


def _logits(engine, crop):
    import torch

    batch = engine.inputs([crop], [engine.prompt(QUESTION)], suffix=["female"])
    with torch.no_grad():
        return engine.model(**batch).logits.float().numpy()


@pytest.fixture(scope="module")
def trained(tiny_vlms, utkface_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ft")
    report = finetune(_config(tiny_vlms, utkface_dir, out, merge=True))
    return out, report


def test_loss_falls_and_outputs_are_written(trained):
    out, report = trained
    losses = [r["loss"] for r in report["history"]]
    assert len(losses) == 6 and losses[-1] < losses[0]
    validated = [r for r in report["history"] if "val_loss" in r]
    assert [r["step"] for r in validated] == [3, 6] and validated[-1]["val_loss"] < validated[0]["val_loss"] + 1
    assert (out / "adapter" / "adapter_config.json").is_file() and (out / "merged" / "config.json").is_file()
    saved = json.loads((out / "facescan_finetune.json").read_text())
    assert saved["question"] == QUESTION and saved["labels"] == list(GENDER)


def test_adapter_reloads_identically_and_merged_model_matches(trained, tiny_vlms):
    from facescan.vlm.hf import load_model

    out, _ = trained
    crop = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    adapter = load_model(str(out / "adapter"), "paligemma")
    again = load_model(str(out / "adapter"), "paligemma")
    merged = load_model(str(out / "merged"), "paligemma")
    base = load_model(str(tiny_vlms["paligemma"]), "paligemma")
    a = _logits(adapter, crop)
    np.testing.assert_array_equal(a, _logits(again, crop))
    np.testing.assert_allclose(a, _logits(merged, crop), atol=1e-4)
    assert np.abs(a - _logits(base, crop)).max() > 1e-3  # training changed the model


def test_resume_ends_where_an_uninterrupted_run_does(tiny_vlms, utkface_dir, tmp_path, trained):
    import torch
    from safetensors.torch import load_file

    out = tmp_path / "resumed"
    finetune(_config(tiny_vlms, utkface_dir, out, max_steps=3, save_every=3, keep_checkpoints=1))
    # a "crash" after step 3: the same command with --resume and the full step count goes on
    report = finetune(_config(tiny_vlms, utkface_dir, out, resume=True))
    assert [r["step"] for r in report["history"]] == list(range(1, 7))
    full, _ = trained
    resumed = load_file(out / "adapter" / "adapter_model.safetensors")
    straight = load_file(full / "adapter" / "adapter_model.safetensors")
    assert resumed.keys() == straight.keys()
    for k in straight:
        torch.testing.assert_close(resumed[k], straight[k], rtol=1e-4, atol=1e-5)


def test_cli_finetune_then_analyze_with_the_adapter(tiny_vlms, utkface_dir, tmp_path, capsys):
    out = tmp_path / "cli"
    code = cli.main(["finetune", "--dataset", f"utkface:{utkface_dir}", "--attribute", "race",
                     "--out", str(out), "--base", str(tiny_vlms["paligemma"]), "--limit", "8",
                     "--max-steps", "2", "--val-every", "2", "--val-samples", "2", "--grad-accum", "1", "-q"])
    assert code == cli.EXIT_OK
    assert "--vlm-labels race=utk5" in capsys.readouterr().out
    backend = make_backend(f"paligemma:{out / 'adapter'}", ("race",), {"mode": "closed", "labels": "race=utk5"})
    crop = np.zeros((1, 64, 64, 3), np.uint8)
    assert backend.predict(crop, ("race",))[0]["race"].label in ("white", "black", "asian", "indian", "others")


def test_examples_keep_the_pixels_of_data_sets_that_ship_them():
    from facescan.datasets.base import Sample

    pixels = np.zeros((48, 48), np.uint8)  # a FER2013 CSV sample: no path, pixels in `image`
    samples = [Sample("a", "", {"emotion": "happy"}, image=pixels),
               Sample("b", "b.jpg", {"emotion": "sad"}), Sample("c", "c.jpg", {"gender": "male"})]
    pairs = examples(samples, "emotion", "emotion7")
    assert len(pairs) == 2 and pairs[0][0] is pixels and pairs[0][1] == "happy"
    assert pairs[1] == ("b.jpg", "sad")
