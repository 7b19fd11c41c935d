"""Detection over several scales: one box per face after merging, implausible boxes dropped,
small and frame-filling faces found in composed photos of real faces, by YuNet and by MTCNN."""

import itertools

import cv2
import numpy as np
import pytest

from facescan.detect import MTCNN, Detection, YuNet, iou, make_detector, merge, parse_scales, plausible
from facescan.detect.yunet import mirrored
from facescan.errors import ConfigError


def _det(box, score=0.9, marks=True, source=""):
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    lm = ((x1 + 0.3 * w, y1 + 0.4 * h), (x1 + 0.7 * w, y1 + 0.4 * h), (x1 + 0.5 * w, y1 + 0.6 * h),
          (x1 + 0.35 * w, y1 + 0.8 * h), (x1 + 0.65 * w, y1 + 0.8 * h)) if marks else None
    return Detection(box, score, lm, source)


def test_merge_keeps_one_box_per_face_and_drops_implausible_ones():
    a, a2 = _det((100, 100, 180, 200), 0.9), _det((104, 98, 186, 204), 0.95)  # one face, two scales
    other = _det((300, 100, 380, 200), 0.7)
    flat = _det((500, 100, 800, 160), 0.99)  # 5:1, not a face
    squeezed = Detection((600, 300, 680, 400), 0.8, ((640, 350), (641, 350), (640, 370), (630, 390), (650, 390)))
    kept = merge([a, a2, other, flat, squeezed])
    assert kept == [a2, other]
    assert not plausible(flat) and not plausible(squeezed) and plausible(_det((0, 0, 10, 12), marks=False))
    assert merge([a, other], max_faces=1) == [a]


def test_merge_keeps_the_source_of_the_box_it_keeps():
    base, fine = _det((100, 100, 180, 200), 0.9, source="yunet"), _det((104, 98, 186, 204), 0.95, source="yunet/fine")
    assert [d.source for d in merge([base, fine])] == ["yunet/fine"]
    assert [d.source for d in merge([base, _det((104, 98, 186, 204), 0.7, source="yunet/coarse")])] == ["yunet"]
    whole = make_detector("none").detect(np.zeros((48, 40, 3), np.uint8))
    assert whole == [Detection((0.0, 0.0, 40.0, 48.0), 1.0, None, "none")]


def test_scales_option():
    assert parse_scales("auto") is None and parse_scales(None) is None
    assert parse_scales("1, 2") == (1.0, 2.0)
    for bad in ("", "0", "1,x", "8"):
        with pytest.raises(ConfigError, match="detect-scales"):
            parse_scales(bad)
    with pytest.raises(ConfigError, match="max_faces"):
        make_detector("yunet", max_faces=-1)
    with pytest.raises(ConfigError, match="yunet only"):
        make_detector("mtcnn", "1,2")
    with pytest.raises(ConfigError, match="mtcnn"):
        make_detector("retinaface")


def _scene(chips, face_px, size=(1280, 720), seed=0):
    """Real chips pasted so their faces are ``face_px`` tall, on a blurred real background."""
    rng = np.random.default_rng(seed)
    w, h = size
    bg = cv2.resize(cv2.GaussianBlur(cv2.resize(chips[-1][0], (24, 24)), (0, 0), 2), (w, h))
    canvas, truth = bg.copy(), []
    for k, (chip, box) in enumerate(chips[:6]):
        s = face_px / (box[3] - box[1])
        small = cv2.resize(chip, (round(chip.shape[1] * s), round(chip.shape[0] * s)), interpolation=cv2.INTER_AREA)
        x, y = 60 + k * (w - 120) // 6 + int(rng.integers(0, 20)), h // 3 + int(rng.integers(0, h // 3))
        canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
        truth.append((x + box[0] * s, y + box[1] * s, x + box[2] * s, y + box[3] * s))
    return canvas, truth


@pytest.fixture(scope="module")
def chips(utk_samples):
    from facescan.io import load_image

    det, out = YuNet(scales=(1.0,)), []
    for s in utk_samples:
        img = load_image(s.path)
        found = det.detect(img)
        if len(found) == 1:
            out.append((img, found[0].bbox))
    return out[:7]


def _found(det, img, truth):
    boxes = [d.bbox for d in det.detect(img)]
    hit = 0
    for t in truth:
        if any(iou(b, t) >= 0.5 for b in boxes):
            hit += 1
    return hit, len(boxes)


def test_small_faces_are_found_by_the_automatic_second_look(chips):
    img, truth = _scene(chips, 28)
    one_pass = _found(YuNet(scales=(1.0,)), img, truth)
    auto = _found(YuNet(), img, truth)
    assert auto[0] >= 5 and auto[0] > one_pass[0] and auto[1] <= len(truth) + 1
    # each box names its pass: the faces the base pass missed come from the second look
    assert "yunet/fine" in {d.source for d in YuNet().detect(img)}
    assert "yunet/x2" in {d.source for d in YuNet(scales=(1.0, 2.0)).detect(img)} <= {"yunet/x1", "yunet/x2"}


def test_small_faces_in_a_small_group_photo_get_the_second_look_too(chips):
    # a 512-px group photo (as many real ones are): faces of 20 px beside one of 40 px
    img, truth = _scene(chips, 20, size=(512, 360))
    x, y = 20, 300
    chip, box = chips[0]
    s = 40 / (box[3] - box[1])
    big = cv2.resize(chip, (round(chip.shape[1] * s), round(chip.shape[0] * s)), interpolation=cv2.INTER_AREA)
    img[y - 10:y - 10 + big.shape[0], x:x + big.shape[1]] = big
    one_pass, auto = _found(YuNet(scales=(1.0,)), img, truth), _found(YuNet(), img, truth)
    assert auto[0] > one_pass[0] and auto[1] <= len(truth) + 2
    sources = {d.source for d in YuNet().detect(img)}  # the second look, and MTCNN's
    assert "yunet/fine" in sources or "mtcnn/group" in sources
    assert "mtcnn/group" not in {d.source for d in YuNet(rescue=False).detect(img)}  # MTCNN only with rescue


def test_big_faces_cut_by_the_border_are_kept_from_the_second_look(chips, monkeypatch):
    """Faces of 100 px cut by the bottom edge (40-60% of them outside), beside faces of 30 px:
    the base pass misses many; the second look (2.5x) finds them, and keeps them when it is sure."""
    from facescan.detect import yunet

    def found_cut(det) -> int:
        hits = 0
        for (chip, box), cut in itertools.product(chips, (40, 50, 60)):
            img, _ = _scene(chips, 30)
            s = 100 / (box[3] - box[1])
            big = cv2.resize(chip, (round(chip.shape[1] * s), round(chip.shape[0] * s)), interpolation=cv2.INTER_AREA)
            h = img.shape[0]
            y = int(h - box[1] * s - (100 - cut))
            img[y:, 500:500 + big.shape[1]] = big[:h - y]
            truth = (500 + box[0] * s, y + box[1] * s, 500 + box[2] * s, h)
            hits += any(iou(d.bbox, truth) >= 0.4 for d in det.detect(img))
        return hits

    kept = found_cut(YuNet())
    monkeypatch.setattr(yunet, "FINE_MAX_MIN_SCORE", 2.0)  # before: big faces of the second look dropped
    before = found_cut(YuNet())
    assert kept >= before + 3 and kept >= 0.8 * 3 * len(chips)


def test_a_face_found_in_the_mirror_image_maps_back_onto_the_face(chips):
    img, _ = chips[0]
    w = img.shape[1]
    direct = YuNet(scales=(1.0,)).detect(img)[0]
    back = mirrored(YuNet(scales=(1.0,)).detect(np.ascontiguousarray(img[:, ::-1]))[0], w)
    assert iou(direct.bbox, back.bbox) > 0.8
    # the person's right eye and mouth corner stay first (on the image's left), as in every detection
    (rx, _), (lx, _), (nx, _), (mrx, _), (mlx, _) = back.landmarks
    assert rx < nx < lx and mrx < mlx
    assert all(back.bbox[0] <= x <= back.bbox[2] and back.bbox[1] <= y <= back.bbox[3] for x, y in back.landmarks)
    # each landmark near where the direct look puts it (YuNet's landmarks on a face and on its
    # mirror image differ by up to ~10% of the box: it is not left-right symmetric)
    side = direct.bbox[2] - direct.bbox[0]
    assert max(abs(a - b) for p, q in zip(direct.landmarks, back.landmarks) for a, b in zip(p, q)) < 0.15 * side


def test_mtcnn_checks_another_detectors_boxes(chips):
    img, box = chips[0]
    x1, y1, x2, y2 = box
    flat = (2.0, 2.0, 2.0 + (x2 - x1) / 3, 2.0 + (y2 - y1) / 3)  # a corner of the background
    face, corner = MTCNN().face_scores(img, [box, flat])
    assert face > 0.9 and corner < 0.5
    assert MTCNN().face_scores(img, []).shape == (0,)


def test_the_second_look_sees_the_mirror_image_too(chips):
    img, truth = _scene(chips, 20, size=(512, 360), seed=2)
    plain, both = _found(YuNet(fine_mirror=False), img, truth), _found(YuNet(), img, truth)
    assert both[0] >= plain[0] and both[1] <= len(truth) + 2


def test_yunet_and_mtcnn_together_find_what_each_finds_once(chips):
    img, truth = _scene(chips, 22, size=(640, 400), seed=1)
    det = make_detector("yunet+mtcnn")
    both = det.detect(img)
    boxes = [d.bbox for d in both]
    assert all(iou(a, b) < 0.4 for i, a in enumerate(boxes) for b in boxes[i + 1:])  # one box per face
    hits = _found(det, img, truth)[0]
    assert hits >= max(_found(YuNet(), img, truth)[0], _found(MTCNN(), img, truth)[0])
    assert {d.source.split("/")[0] for d in both} <= {"yunet", "mtcnn"}


def test_ordinary_and_frame_filling_faces_one_box_each(chips):
    img, truth = _scene(chips, 90)
    assert _found(YuNet(), img, truth) == (6, 6)
    chip, box = chips[0]
    s = 3.2  # a 640x640 close-up of the chip, cut to 600x600 around the face: the face fills it
    big = cv2.resize(chip, (round(chip.shape[1] * s), round(chip.shape[0] * s)))
    cx, cy = int((box[0] + box[2]) / 2 * s), int((box[1] + box[3]) / 2 * s)
    x0, y0 = min(max(0, cx - 300), big.shape[1] - 600), min(max(0, cy - 300), big.shape[0] - 600)
    frame = np.ascontiguousarray(big[y0:y0 + 600, x0:x0 + 600])
    found = YuNet().detect(frame)
    assert len(found) == 1
    f = found[0]
    assert f.bbox[3] - f.bbox[1] > 350 and all(f.bbox[0] - 50 <= x <= f.bbox[2] + 50 for x, _ in f.landmarks)


def test_mtcnn_finds_small_and_ordinary_faces_with_landmarks_in_order(chips):
    det = MTCNN()
    small, truth = _scene(chips, 20)
    # YuNet's single pass misses most faces this small; MTCNN's pyramid reaches them
    assert _found(det, small, truth)[0] >= 5 > _found(YuNet(scales=(1.0,)), small, truth)[0]
    img, truth = _scene(chips, 90)
    found = det.detect(img)
    assert _found(det, img, truth) == (6, 6)
    for d in found:
        (rx, ry), (lx, ly), (nx, ny), (mrx, mry), (mlx, mly) = d.landmarks
        # facescan's order: the person's right eye first (on the viewer's left), then left eye,
        # nose, right and left mouth corners
        assert rx < nx < lx and mrx < mlx and max(ry, ly) < ny < min(mry, mly)
        assert 0.5 <= d.score <= 1.0 and d.source == "mtcnn"
    assert len(MTCNN(max_faces=2).detect(img)) == 2
    assert MTCNN().detect(np.full((300, 400, 3), 128, np.uint8)) == []
    # a search for big faces only (the default's rescue of a large photo): the same boxes on
    # 90 px faces (IoU over 0.8: fewer candidates meet in the suppressions), none of the 20 px ones
    big = det.detect(img, min_face=60)
    assert len(big) == 6 and all(max(iou(a.bbox, b.bbox) for b in found) > 0.8 for a in big)
    assert det.detect(small, min_face=60) == []


def test_mtcnn_through_the_analyzer(group_photo):
    from facescan import Analyzer

    image, places = group_photo
    faces = Analyzer("gender,age", detector="mtcnn").analyze(image)
    assert len(faces) == len(places)
    for face in faces:
        cx, cy = (face.bbox[0] + face.bbox[2]) / 2, (face.bbox[1] + face.bbox[3]) / 2
        assert any(x1 <= cx <= x2 and y1 <= cy <= y2 for x1, y1, x2, y2 in places)
        assert set(face.attributes) == {"gender", "age"}


def test_one_yunet_serves_several_threads(chips):
    from concurrent.futures import ThreadPoolExecutor

    det = YuNet()
    images = [img for img, _ in chips] * 4
    alone = [det.detect(img) for img in images]
    with ThreadPoolExecutor(4) as pool:  # the Analyzer detects a batch's images like this
        together = list(pool.map(det.detect, images))
    assert together == alone and all(len(found) == 1 for found in alone)


def test_a_profile_that_fills_the_frame_is_rescued_by_mtcnn(fairface_dir):
    """FairFace photo 317 (a woman in profile, eyes closed): YuNet alone finds no face; the
    default hands the photo to MTCNN, which does, and says so in the source."""
    from facescan.io import load_image

    img = load_image(fairface_dir / "train" / "317.jpg")
    assert YuNet(rescue=False).detect(img) == []
    found = YuNet().detect(img)
    assert [d.source for d in found] == ["mtcnn/rescue"]
    x1, _, x2, _ = found[0].bbox
    assert (x2 - x1) > 0.3 * img.shape[1] and found[0].landmarks is not None
    # explicit scales run exactly the passes named: no rescue
    assert YuNet(scales=(1.0,)).detect(img) == []


def test_a_head_tilted_far_over_is_found_by_the_rotated_last_look(fairface_dir):
    """FairFace photos turned by 55 degrees: YuNet alone misses some of those heads; the last
    look, at the photo turned back, finds them, its box on the face and its eyes on the eyes."""
    from facescan.io import load_image

    upright, rotated, plain, default = YuNet(scales=(1.0,)), 0, 0, YuNet()
    for path in sorted((fairface_dir / "train").glob("*.jpg"))[:12]:
        img = load_image(path)
        h, w = img.shape[:2]
        face = upright.detect(img)
        if len(face) != 1:
            continue
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 55, 1.0)
        turned = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        plain += len(YuNet(rescue=False).detect(turned)) > 0
        found = default.detect(turned)
        assert len(found) == 1
        if found[0].source != "yunet/rescue-rotated":
            continue
        rotated += 1
        x1, y1, x2, y2 = found[0].bbox
        eyes = np.array(face[0].landmarks[:2]) @ m[:, :2].T + m[:, 2]  # where the eyes went
        assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in eyes)
        assert np.abs(np.array(found[0].landmarks[:2]) - eyes).max() < 0.15 * (x2 - x1)
    assert rotated >= 3 and plain <= 12 - rotated


def test_no_rescue_where_yunet_finds_a_face(chips):
    img = chips[0][0]
    assert [d.source for d in YuNet().detect(img)] == ["yunet"]


def test_a_profile_beside_a_found_face_is_found_by_mtcnn_beside(fairface_dir):
    """Two FairFace photos side by side on a 1280x720 canvas, one a profile (ear towards the
    camera): YuNet finds the other face and misses it; the look beside found faces (MTCNN, for
    faces from half the smallest found one's size) finds it, without moving the face YuNet found."""
    from facescan.io import load_image

    canvas = np.full((720, 1280, 3), 120, np.uint8)
    canvas[100:400, 100:400] = cv2.resize(load_image(fairface_dir / "train" / "1.jpg"), (300, 300))
    canvas[120:420, 700:1000] = cv2.resize(load_image(fairface_dir / "train" / "232.jpg"), (300, 300))
    before = YuNet(beside=False).detect(canvas)
    assert [d.source for d in before] == ["yunet"] and before[0].bbox[2] < 450
    found = sorted(YuNet().detect(canvas), key=lambda d: d.bbox[0])  # left to right
    assert [d.source for d in found] == ["yunet", "mtcnn/beside"] and found[0] == before[0]
    x1, y1, x2, y2 = found[1].bbox  # on the profile: its centre in that photo, its size a face's
    assert 700 < (x1 + x2) / 2 < 1000 and 120 < (y1 + y2) / 2 < 420 and 90 < x2 - x1 < 360
    assert found[1].landmarks is not None and all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in found[1].landmarks)


def test_a_big_face_cut_by_the_border_is_found_by_the_mirrored_border_look(fairface_dir):
    """A big face 45% past the right border of a 1280x720 photo (as in a selfie), beside a whole
    one: the other looks find only the whole face; the look with the border mirrored (the cut
    face made whole and symmetric there) finds the cut one, and nothing in the mirrored border."""
    from facescan.io import load_image

    canvas = np.full((720, 1280, 3), 120, np.uint8)
    canvas[100:400, 100:400] = cv2.resize(load_image(fairface_dir / "train" / "1.jpg"), (300, 300))
    canvas[110:610, 1025:1280] = cv2.resize(load_image(fairface_dir / "train" / "111.jpg"), (500, 500))[:, :255]
    before = YuNet(cut=False).detect(canvas)
    assert [d.source for d in before] == ["yunet"] and before[0].bbox[2] < 450
    found = sorted(YuNet().detect(canvas), key=lambda d: d.bbox[0])  # left to right
    assert [d.source for d in found] == ["yunet", "yunet/cut"] and found[0] == before[0]
    x1, y1, x2, y2 = found[1].bbox  # on the cut face, inside the photo, up to its border
    assert 1025 <= x1 < 1200 and x2 == 1280 and 110 <= (y1 + y2) / 2 <= 610 and 200 < y2 - y1 < 600
