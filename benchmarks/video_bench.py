"""facescan video on synthetic clips of real UTKFace faces (tests/synth/clips.py): throughput at
720p, tracking (IDF1, identity switches, fragmentations) against supervision's ByteTrack, attribute
accuracy per track vs per frame, and peak RSS over a 10-minute 720p video.

    python benchmarks/video_bench.py --part speed|tracking|rss|all [--write BENCHMARKS.md]

Each part saves its numbers in benchmarks/results/video.json; report.py makes the BENCHMARKS.md section
from that file (so the parts can run as separate, short jobs). Run each part under the lock.
The tracking part also needs `pip install supervision==0.29.1 motmetrics==1.4.0` (the comparison only:
neither is a facescan dependency; 0.29.1 is supervision's last release with ByteTrack).
People come from UTKFace's `test` split (adults 18-70), so the attribute models never trained on them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import report  # benchmarks/ is on sys.path when run as a script
import result_tables

from facescan import Analyzer
from facescan.datasets import read_utkface
from facescan.labels import age_group9
from facescan.video import Tracker, VideoSource, analyze_video

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test-data generators (tests/synth), not part of the package
from synth.clips import make_clip, pick_people, render, score_tracks, write_frames

DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))
W, H, FPS = 1280, 720, 25.0


def people_sets(n_sets: int) -> list[list]:
    samples = [s for s in read_utkface(DATA / "utkface", "test") if 18 <= int(s.labels["age"]) <= 70]
    return [pick_people(samples[k::n_sets]) for k in range(n_sets)]


def timed_run(analyzer: Analyzer, path: str, **sampling) -> tuple[float, int]:
    """Seconds to analyse and track a whole video, and the frames analysed."""
    tracker = Tracker(keep_predictions=False)
    start, n = time.perf_counter(), 0
    for _ in analyze_video(analyzer, path, tracker=tracker, **sampling):
        tracker.pop_ended()
        n += 1
    tracker.finish()
    return time.perf_counter() - start, n


def part_speed(seconds: float, tmp: Path) -> dict:
    clip = make_clip(tmp / "speed.mp4", people_sets(1)[0], W, H, FPS, seconds, face_frac=0.3)
    analyzer = Analyzer()
    timed_run(analyzer, clip.path, every=25)  # warm up
    out: dict = {"seconds": seconds, "frames": clip.frames}
    t, n = time.perf_counter(), 0
    for _ in VideoSource(clip.path, every=1).frames():
        n += 1
    out["decode_all_fps"] = n / (time.perf_counter() - t)
    t5, n5 = timed_run(analyzer, clip.path, fps=5)
    out.update(fps5_s=t5, fps5_frames=n5, x_realtime=seconds / t5)
    cmd = [sys.executable, "-c", "import sys; from facescan.cli import main; sys.exit(main())", "video", clip.path,
           "-o", str(tmp / "f.jsonl"), "--tracks", str(tmp / "t.json"), "--annotate", str(tmp / "a.mp4"), "-q"]
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    out["cli_annotate_x_realtime"] = seconds / (time.perf_counter() - t)  # model loading included
    ta, na = timed_run(analyzer, clip.path, every=1)
    out.update(all_s=ta, all_frames=na, all_fps=na / ta)
    return out


def bytetrack_ids(results: list, fps: float) -> list[list[int]]:
    """supervision's ByteTrack on the same detections; a face it leaves untracked gets an id
    of its own (it is a prediction no person can be mapped to)."""
    import supervision as sv

    tracker = sv.ByteTrack(frame_rate=fps, lost_track_buffer=int(2.0 * 30), minimum_consecutive_frames=1)
    fresh, out = -1, []
    for r in results:
        ids = []
        if r.faces:
            det = sv.Detections(xyxy=np.array([f.bbox for f in r.faces], np.float32),
                                confidence=np.array([f.score for f in r.faces], np.float32),
                                class_id=np.zeros(len(r.faces), int))
            got = tracker.update_with_detections(det)
        else:
            got = tracker.update_with_detections(sv.Detections.empty())
        for f in r.faces:
            hit = [int(t) for b, t in zip(got.xyxy, got.tracker_id) if np.allclose(b, f.bbox, atol=0.5)]
            if hit:
                ids.append(hit[0])
            else:
                ids.append(fresh)
                fresh -= 1
        out.append(ids)
    return out


def mot_metrics(clip, results: list, ids: list[list[int]]) -> dict:
    """motmetrics' IDF1, MOTA, switches and fragmentations (IoU >= 0.5 to match); the
    distance matrix is computed here (motmetrics 1.4's iou_matrix fails on NumPy 2)."""
    import motmetrics as mm

    from facescan.video.track import iou

    acc = mm.MOTAccumulator(auto_id=True)
    for r, hyp in zip(results, ids):
        truth = clip.truth_at(r.time_s)
        dist = np.array([[1 - iou(box, f.bbox) if iou(box, f.bbox) >= 0.5 else np.nan for f in r.faces]
                         for _, box in truth]).reshape(len(truth), len(r.faces))
        acc.update([p for p, _ in truth], hyp, dist)
    return acc


def with_ids(results: list, ids: list[list[int]]) -> list:
    import dataclasses

    return [dataclasses.replace(r, tracks=i) for r, i in zip(results, ids)]


def relink(results: list, embeddings: bool) -> tuple[list[list[int]], list]:
    """facescan's tracker over stored results (with or without the faces' embeddings)."""
    import dataclasses

    tracker = Tracker()
    ids = []
    for r in results:
        faces = r.faces if embeddings else [dataclasses.replace(f, embedding=None) for f in r.faces]
        ids.append(tracker.update(r.frame, r.time_s, faces, size=(r.height, r.width)))
    return ids, tracker.finish()


def part_tracking(n_clips: int, seconds: float, tmp: Path) -> dict:
    import motmetrics as mm

    analyzer = Analyzer(embed=True)
    accs: dict[str, list] = {"facescan": [], "facescan --embed": [], "ByteTrack (supervision 0.29.1)": []}
    own: dict[str, list] = {k: [] for k in accs}
    attr = {"frame": {"gender": [], "race": [], "age9": [], "age_err": []},
            "track": {"gender": [], "race": [], "age9": [], "age_err": []},
            "track_frames": {"gender": [], "race": [], "age9": [], "age_err": []}}
    for k, people in enumerate(people_sets(n_clips)):
        clip = make_clip(tmp / f"track{k}.mp4", people, 640, 360, FPS, seconds, face_frac=0.35, seed=k)
        results = list(analyze_video(analyzer, clip.path, fps=5, tracker=False))
        runs = {"facescan": relink(results, False), "facescan --embed": relink(results, True),
                "ByteTrack (supervision 0.29.1)": (bytetrack_ids(results, 5.0), None)}
        for name, (ids, _) in runs.items():
            accs[name].append(mot_metrics(clip, results, ids))
            s = score_tracks(clip, with_ids(results, ids))
            own[name].append((s["idtp"], s["truth_boxes"], s["pred_boxes"]))
        ids, tracks = runs["facescan"]
        scored = score_tracks(clip, with_ids(results, ids))
        by_id = {t.id: t.attributes for t in tracks}
        truth = {p.pid: p.labels for p in people}
        for ri, fi, pid in scored["matches"]:
            frame_pred, track_pred = results[ri].faces[fi].attributes, by_id[ids[ri][fi]]
            _score(attr["frame"], frame_pred, truth[pid])
            _score(attr["track_frames"], track_pred, truth[pid])
        for pid, tid in scored["mapping"].items():
            _score(attr["track"], by_id[tid], truth[pid])
    mh = mm.metrics.create()
    out: dict = {"clips": n_clips, "seconds": seconds, "trackers": {}}
    for name, acc_list in accs.items():
        summary = mh.compute_many(acc_list, metrics=["idf1", "mota", "num_switches", "num_fragmentations",
                                                      "num_unique_objects", "num_misses", "num_false_positives"],
                                  names=[str(i) for i in range(len(acc_list))], generate_overall=True)
        row = summary.loc["OVERALL"]
        idtp, nt, npred = (sum(x[i] for x in own[name]) for i in range(3))
        out["trackers"][name] = {"idf1": float(row["idf1"]), "mota": float(row["mota"]),
                                 "switches": int(row["num_switches"]), "fragmentations": int(row["num_fragmentations"]),
                                 "people": int(row["num_unique_objects"]), "idf1_own": 2 * idtp / (nt + npred)}
    out["attributes"] = {level: {k: (float(np.mean(v)) if v else None, len(v)) for k, v in d.items()}
                         for level, d in attr.items()}
    return out


def _score(into: dict, pred: dict, truth: dict) -> None:
    into["gender"].append(pred["gender"].label == truth["gender"])
    into["race"].append(pred["race"].label == truth["race"])
    into["age9"].append(pred["age"].label == age_group9(float(truth["age"])))
    into["age_err"].append(abs(pred["age"].years - float(truth["age"])))


def loop_video(src: Path, dst: Path, times: int) -> Path:
    """``src`` played ``times`` times over, by copying its packets with shifted timestamps (no re-encoding)."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        istream = inp.streams.video[0]
        ostream = out.add_stream_from_template(istream)
        packets = [p for p in inp.demux(istream) if p.size]
        span = max(p.pts + p.duration for p in packets) - min(p.pts for p in packets)
        for k in range(times):
            for p in packets:
                q = av.Packet(bytes(p))
                q.pts, q.dts, q.duration, q.is_keyframe = p.pts + k * span, p.dts + k * span, p.duration, p.is_keyframe
                q.time_base, q.stream = p.time_base, ostream
                out.mux(q)
    return dst


def part_rss(minutes: float, tmp: Path) -> dict:
    """The command line over a long 720p video (the 30-s script repeated), all outputs on; its
    RSS sampled every 0.5 s from /proc."""
    people = people_sets(1)[0]
    t = time.perf_counter()
    part = tmp / "part.mp4"
    write_frames(part, (img for img, _ in render(people, W, H, FPS, 30.0, 0.3)), FPS)
    loops = max(1, round(minutes * 2))
    path = loop_video(part, tmp / "long.mp4", loops)
    made = time.perf_counter() - t
    cmd = [sys.executable, "-c", "import sys; from facescan.cli import main; sys.exit(main())", "video", str(path),
           "-o", str(tmp / "f.jsonl"), "--tracks", str(tmp / "t.json"), "--annotate", str(tmp / "a.mp4"), "-q"]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd)
    samples = []
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            samples.append((time.perf_counter() - t, int(status.split("VmRSS:")[1].split()[0]) / 1024))
        except (OSError, IndexError):
            pass
        time.sleep(0.5)
    took = time.perf_counter() - t
    assert proc.returncode == 0, proc.returncode
    tenth = [m for s, m in samples if s <= took / 10]
    return {"minutes": loops / 2, "generate_s": made, "run_s": took, "x_realtime": loops * 30 / took,
            "peak_mb": max(m for _, m in samples), "peak_first_tenth_mb": max(tenth) if tenth else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", default="all", choices=["speed", "tracking", "rss", "all", "none"])
    ap.add_argument("--seconds", type=float, default=30.0, help="speed: length of the 720p clip")
    ap.add_argument("--clips", type=int, default=5, help="tracking: clips (4 people each)")
    ap.add_argument("--clip-seconds", type=float, default=12.0, help="tracking: length of each clip")
    ap.add_argument("--minutes", type=float, default=10.0, help="rss: length of the long video")
    ap.add_argument("--write", help="regenerate this file (BENCHMARKS.md) from benchmarks/results/")
    args = ap.parse_args()
    try:
        res = report.load("video")
    except FileNotFoundError:
        res = {"kind": "video"}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if args.part in ("speed", "all"):
            res["speed"] = part_speed(args.seconds, Path(tmp))
        if args.part in ("tracking", "all"):
            res["tracking"] = part_tracking(args.clips, args.clip_seconds, Path(tmp))
        if args.part in ("rss", "all"):
            res["rss"] = part_rss(args.minutes, Path(tmp))
        meta = report.measured(f"python benchmarks/video_bench.py --part {args.part}"
                               + (f" --clips {args.clips}" if args.part == "tracking" else ""),
                               time.perf_counter() - start)
        for part in ("speed", "tracking", "rss"):
            if args.part in (part, "all"):
                res[part]["meta"] = meta
    if args.part != "none":
        from facescan.video.write import encoder_name

        res |= {"size": [W, H], "fps": FPS, "encoder": encoder_name()}
        report.save("video", res)
    print(result_tables.video(res, report.provenance))
    if args.write:
        report.write_report(Path(args.write))


if __name__ == "__main__":
    main()
