"""facescan video: synthetic clips of real UTKFace faces with known tracks (tests/synth/clips.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av", reason="needs facescan[video] (PyAV)")

from synth.clips import make_clip, pick_people, render, score_tracks, write_frames, write_tone

from facescan import Analyzer, VideoError, track_video
from facescan.cli import main
from facescan.types import Prediction
from facescan.video import Tracker, VideoSource, analyze_video
from facescan.video.aggregate import Aggregate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def people(utk_samples):
    return pick_people([s for s in utk_samples if 18 <= int(s.labels["age"]) <= 70])


@pytest.fixture(scope="module")
def clip(people, tmp_path_factory):
    """6 s at 10 fps, 320x240: two people crossing, one behind a passing board, one entering and leaving."""
    return make_clip(tmp_path_factory.mktemp("video") / "clip.mp4", people)


@pytest.fixture(scope="module")
def long_clip(people, tmp_path_factory):
    """3,000 small frames (2 minutes at 25 fps, 160x120)."""
    path = tmp_path_factory.mktemp("video") / "long.mkv"
    write_frames(path, (img for img, _ in render(people, 160, 120, 25, 120, face_frac=0.45)), 25)
    return path


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _decoded_frames(path: Path) -> tuple[str, list[np.ndarray]]:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        return stream.codec_context.name, [f.to_ndarray(format="rgb24") for f in c.decode(stream)]


def test_cli_writes_frames_tracks_thumbnails_and_annotated_video(clip, tmp_path):
    out = tmp_path / "out"
    rc = main(["video", clip.path, "-o", str(out / "frames.jsonl"), "--tracks", str(out / "tracks.json"),
               "--annotate", str(out / "ann.mp4"), "--thumbnails", str(out / "thumbs"), "--fps", "10", "-q"])
    assert rc == 0
    frames = _records(out / "frames.jsonl")
    assert [r["frame"] for r in frames] == list(range(clip.frames))
    assert frames[10]["time_s"] == pytest.approx(1.0) and frames[10]["width"] == 320
    face = frames[40]["faces"][0]
    assert {"bbox", "score", "attributes", "track"} <= set(face) and "gender" in face["attributes"]
    assert face["found_by"] == "yunet"
    tracks = json.loads((out / "tracks.json").read_text())
    assert len(tracks) == 4  # the four people, nobody split or merged
    for t in tracks:
        assert t["frames"] == len(t["boxes"]) and t["first_time_s"] <= t["last_time_s"]
        assert set(t["attributes"]) == {"gender", "age", "race", "emotion"}
        assert Path(t["thumbnail"]).is_file()
    ids_in_frames = {f["track"] for r in frames for f in r["faces"]}
    assert ids_in_frames == {t["track"] for t in tracks}
    codec, images = _decoded_frames(out / "ann.mp4")
    assert codec == "h264" and len(images) == clip.frames and images[0].shape == (240, 320, 3)
    assert not np.array_equal(images[40], next(iter(render(clip.people, 320, 240, 10, 6)))[0])


def test_tracks_follow_people_through_crossing_and_occlusion(clip, analyzer):
    results = list(analyze_video(analyzer, clip.path, fps=10))
    scores = score_tracks(clip, results)
    assert scores["switches"] == 0
    assert scores["tracks"] == 4 and len(set(scores["mapping"].values())) == 4
    assert scores["idf1"] >= 0.9
    # person 1 is hidden behind person 0 at the crossing and keeps its id afterwards
    hidden = [k for k, r in enumerate(results) if 1 not in {p for p, _ in clip.truth_at(r.time_s)}
              and 0.3 < k / len(results) < 0.7]
    assert hidden, "the script hides person 1 at the crossing"


def test_track_video_api_and_csv(clip, analyzer, tmp_path):
    tracks = track_video(clip.path, analyzer, fps=5)
    assert [t.id for t in tracks] == [1, 2, 3, 4]
    for t in tracks:
        assert len(t.predictions) == t.frames == len(t.boxes)  # per-frame predictions kept
        mean_male = np.mean([a["gender"].probs["male"] for _, a in t.predictions])
        assert t.attributes["gender"].probs["male"] == pytest.approx(mean_male)
    rc = main(["video", clip.path, "--tracks", str(tmp_path / "t.csv"), "-q"])
    assert rc == 0
    rows = (tmp_path / "t.csv").read_text().splitlines()
    assert rows[0].startswith("path,track,first_frame") and len(rows) == 5


def test_aggregate_averages_probabilities_and_years():
    agg = Aggregate()
    agg.add({"gender": Prediction("male", 0.6, {"male": 0.6, "female": 0.4}),
             "age": Prediction("20-29", 0.5, {"20-29": 0.5, "30-39": 0.5}, years=28.0, group5="20-39")})
    agg.add({"gender": Prediction("female", 0.9, {"male": 0.1, "female": 0.9}),
             "age": Prediction("30-39", 0.5, {"20-29": 0.5, "30-39": 0.5}, years=34.0, group5="20-39")})
    out = agg.result()
    assert out["gender"].label == "female" and out["gender"].score == pytest.approx(0.65)
    assert out["age"].years == pytest.approx(31.0) and out["age"].label == "30-39"


def test_tracker_keeps_id_through_a_short_gap_and_ends_lost_tracks():
    from facescan.types import Face

    tracker = Tracker(max_lost_s=1.0)
    box = lambda x: Face((x, 10.0, x + 40.0, 50.0), 0.9)
    ids = [tracker.update(k, k * 0.2, [box(10 + 8 * k)] if k not in (3, 4) else [])[:1] for k in range(8)]
    assert {i[0] for i in ids if i} == {1}  # moving face, unseen for 0.4 s: same track
    tracker.update(20, 4.0, [])
    ended = tracker.pop_ended()
    assert [t.id for t in ended] == [1] and ended[0].frames == 6 and tracker.finish() == []


@pytest.mark.parametrize("min_frames", [1, 2, None])
def test_a_face_seen_once_or_twice_is_not_a_track_unless_asked(min_frames):
    from facescan.types import Face

    tracker = Tracker() if min_frames is None else Tracker(min_frames=min_frames)
    person, flash = Face((10.0, 10.0, 50.0, 50.0), 0.9), Face((200.0, 10.0, 240.0, 50.0), 0.7)
    ghost = Face((100.0, 100.0, 140.0, 140.0), 0.7)  # seen once, far from the others
    frames = [[person], [person], [person, flash], [person, flash, ghost], [person]]
    ids = [tracker.update(k, k * 0.2, faces) for k, faces in enumerate(frames)]
    assert ids[2] == [1, 2] and ids[3] == [1, 2, 3]  # the per-frame results name every face
    kept = {1: [1, 2, 3], 2: [1, 2], None: [1]}[min_frames]  # the default asks for 3 frames
    assert [t.id for t in tracker.finish()] == kept
    assert tracker.dropped == 3 - len(kept)


def test_truncated_video_keeps_frames_then_says_where_it_stopped(clip, tmp_path):
    data = Path(clip.path).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    rc = main(["video", str(cut), "-o", str(tmp_path / "f.jsonl"), "--tracks", str(tmp_path / "t.json"),
               "--every", "1", "-q"])
    assert rc == 1
    records = _records(tmp_path / "f.jsonl")
    assert len(records) > 10 and all(r["error"] is None for r in records[:-1])
    last = records[-1]
    assert last["error"] and "truncated" in last["error"] and last["frame"] == len(records) - 1
    assert f"{len(records) - 1} of {clip.frames} frames" in last["error"]
    assert json.loads((tmp_path / "t.json").read_text())  # tracks so far written, valid JSON
    with pytest.raises(VideoError) as info:
        track_video(cut, Analyzer(), every=1)
    assert "truncated" in str(info.value) and len(info.value.tracks) >= 2  # the tracks made are kept


def _error_of(source, **kw) -> str:
    with pytest.raises(VideoError) as info:
        list(VideoSource(source, **kw).frames())
    return str(info.value)


def test_bad_inputs_give_clear_errors(clip, tmp_path, analyzer):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert "empty file (0 bytes)" in _error_of(empty)
    tone = tmp_path / "tone.m4a"
    write_tone(tone)
    assert "no video stream (audio only" in _error_of(tone)
    assert "no such file" in _error_of(tmp_path / "missing.mp4")
    assert "not.mp4: cannot open as a video" in _error_of(_write(tmp_path / "not.mp4", b"garbage" * 100))
    assert "76,800 pixels per frame is over the limit of 10,000" in _error_of(clip.path, max_pixels=10_000)
    # through the Analyzer: an error record, never an exception
    results = list(analyze_video(Analyzer(max_pixels=10_000), clip.path))
    assert len(results) == 1 and "over the limit" in results[0].error and results[0].faces == []
    rc = main(["video", str(empty), str(tone), clip.path, "-o", str(tmp_path / "f.jsonl"), "--fps", "1", "-q"])
    records = _records(tmp_path / "f.jsonl")
    assert rc == 1 and [r["error"] is not None for r in records[:2]] == [True, True]
    assert len(records) == 2 + 6 and all(r["error"] is None for r in records[2:])


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_unreachable_streams_fail_after_a_bounded_time():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert "Connection refused" in _error_of(f"rtsp://127.0.0.1:{port}/live", timeout=2)
    with socket.socket() as server:  # accepts, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        for url in (f"rtsp://127.0.0.1:{server.getsockname()[1]}/live",
                    f"http://127.0.0.1:{server.getsockname()[1]}/clip.mp4"):
            start = time.monotonic()
            assert "no answer within 1.5 s (timeout)" in _error_of(url, timeout=1.5)
            assert time.monotonic() - start < 6


def test_http_stream_and_image_sequences(clip, tmp_path, httpserver):
    from PIL import Image

    httpserver.expect_request("/clip.mp4").respond_with_data(Path(clip.path).read_bytes(), content_type="video/mp4")
    frames = list(VideoSource(httpserver.url_for("/clip.mp4"), fps=2).frames())
    assert [round(f.time_s, 1) for f in frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5]
    for k, (img, _) in enumerate(render(clip.people, 160, 120, 10, 1)):
        Image.fromarray(img).save(tmp_path / f"f_{k:03d}.png")
    assert len(list(VideoSource(str(tmp_path / "f_%03d.png"), every=1).frames())) == 10
    assert [f.index for f in VideoSource(str(tmp_path / "*.png"), every=3).frames()] == [0, 3, 6, 9]


def test_if_no_face_whole_on_frames_without_a_face(tmp_path):
    from PIL import Image

    for k in range(3):
        Image.fromarray(np.full((120, 160, 3), 100 + 20 * k, np.uint8)).save(tmp_path / f"g_{k:03d}.png")
    pattern = str(tmp_path / "g_%03d.png")
    common = ["--every", "1", "--attributes", "gender", "-q"]
    assert main(["video", pattern, "-o", str(tmp_path / "skip.jsonl"), *common]) == 0
    assert [r["faces"] for r in _records(tmp_path / "skip.jsonl")] == [[], [], []]
    assert main(["video", pattern, "-o", str(tmp_path / "whole.jsonl"), "--if-no-face", "whole", *common]) == 0
    frames = _records(tmp_path / "whole.jsonl")
    assert len(frames) == 3
    for r in frames:
        (face,) = r["faces"]
        assert face["bbox"] == [0.0, 0.0, 160.0, 120.0] and face["score"] == 0.0
        assert face["found_by"] == "whole-image" and list(face["attributes"]) == ["gender"]
        assert face["track"] is not None


def test_seeking_samples_at_the_right_times(long_clip):
    frames = list(VideoSource(long_clip, fps=0.1).frames())
    assert [f.index for f in frames] == list(range(0, 3000, 250))
    assert [f.time_s for f in frames] == pytest.approx([10.0 * k for k in range(12)], abs=0.05)


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads RSS from /proc")
def test_memory_stays_flat_over_a_long_video(long_clip, analyzer, tmp_path):
    """All 3,000 frames decoded, 375 analysed and tracked. One frame per batch: onnxruntime's
    memory arena grows until it has seen the largest batch of faces (bounded by the batch size,
    not by the video's length), which would hide what is measured here."""
    tracker = Tracker(keep_predictions=False)
    rss = []
    results = analyze_video(analyzer, long_clip, every=8, batch_size=1, tracker=tracker, keep_images=False)
    for k, r in enumerate(results):
        assert r.error is None
        tracker.pop_ended()
        if k in (50, 370):
            rss.append(_rss_mb())
    assert k == 3000 // 8 - 1
    assert rss[1] - rss[0] < 10, f"RSS grew from {rss[0]:.0f} to {rss[1]:.0f} MB"


def test_ctrl_c_keeps_everything_written(long_clip, tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    with open(tmp_path / "stderr.txt", "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", "import sys; from facescan.cli import main; sys.exit(main())",
                                 "video", str(long_clip), "-o", str(out / "f.jsonl"), "--tracks", str(out / "t.json"),
                                 "--annotate", str(out / "a.mp4"), "--every", "1", "-q"], env=env, stderr=err)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not (out / "f.jsonl").exists()
                                               or len((out / "f.jsonl").read_text().splitlines()) < 20):
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=30)
    assert rc == 130, (tmp_path / "stderr.txt").read_text()
    frames = _records(out / "f.jsonl")
    assert len(frames) >= 20 and len(frames) < 3000
    tracks = json.loads((out / "t.json").read_text())
    # the frame in hand when Ctrl-C came may be in its track and not yet in the frames file
    assert tracks and max(t["last_frame"] for t in tracks) <= frames[-1]["frame"] + 1
    _, images = _decoded_frames(out / "a.mp4")
    assert len(images) >= len(frames) - 1  # every frame of the file, but perhaps the one in hand


def test_embed_option_and_folder_input(clip, tmp_path):
    import shutil

    folder = tmp_path / "videos"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(clip.path, folder / "sub" / "a.mp4")
    (folder / "notes.txt").write_text("not a video")
    rc = main(["video", str(folder), "-o", str(tmp_path / "f.jsonl"), "--tracks", str(tmp_path / "t.json"),
               "--embed", "--fps", "5", "-q"])
    assert rc == 0
    frames = _records(tmp_path / "f.jsonl")
    assert len(frames) == 30 and {r["path"] for r in frames} == {str(folder / "sub" / "a.mp4")}
    face = frames[20]["faces"][0]
    assert len(face["embedding"]) == 128 and face["embedding_model"] == "sface"
    assert len(json.loads((tmp_path / "t.json").read_text())) == 4
