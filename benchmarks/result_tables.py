"""Markdown tables of the result files that keep raw numbers (benchmarks/results/*.json with a
``kind``), and the headline table of current numbers; used by report.py.

Kinds: ``wild`` (wild_bench.py), ``bench`` (bench.py rows collected by run.sh, plus summarize.py's
per-group tables as blocks), ``ann`` (ann_bench.py), ``store`` (store_bench.py), ``serve``
(serve_bench.py), ``video`` (video_bench.py). Each renderer takes the result and report.py's
``provenance`` (meta -> "Measured ... ." line).
"""

from __future__ import annotations

import statistics

OWN_PROVENANCE = {"serve", "video"}  # files of separately run parts, each part with its own meta


def pct1(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def num(v, fmt="{:.2f}") -> str:
    return "-" if v is None else fmt.format(v)


def table(columns: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
            *("| " + " | ".join(str(c) for c in r) + " |" for r in rows)]


def blocks_md(blocks: list) -> str:
    """Blocks (paragraph strings and {"columns", "rows"} tables) as Markdown."""
    return "\n\n".join(b if isinstance(b, str) else "\n".join(table(b["columns"], b["rows"])) for b in blocks)


# --- wild_bench.py: every labelled set, several backends ---------------------------------------------------

def kids(res: dict) -> float | None:
    """Gender accuracy of ages 2-9 over All-Age-Faces val and UTKFace test together."""
    sets = [res[n] for n in ("All-Age-Faces val", "UTKFace test") if "kids_gender" in res.get(n, {})]
    if not sets:
        return None
    return sum(x["kids_gender"] * x["kids_n"] for x in sets) / max(1, sum(x["kids_n"] for x in sets))


def wild(result: dict, provenance=None) -> str:
    backends = result["backends"]
    first = next(iter(backends.values()))
    names = [n for n in first if n != "seconds"]
    gender_sets = [n for n in names if not n.startswith("FER")]
    out = ["Gender accuracy % (female recall / male recall):", ""]
    rows = []
    for backend, res in backends.items():
        cells = [f"{pct1(res[n].get('gender'))} ({pct1(res[n].get('female_recall'))} / "
                 f"{pct1(res[n].get('male_recall'))})" for n in gender_sets]
        rows.append([backend, *cells, pct1(kids(res))])
    out += table(["backend", *gender_sets, "ages 2-9 (AAF val + UTK test)"], rows)
    out += ["", "Race, age and emotion:", ""]
    out += table(["backend", "UTKFace race %", "UTKFace age MAE", "All-Age-Faces age MAE", "FER+ 8-class %",
                  "FER2013 7-class %", "s"],
                 [[b, pct1(r["UTKFace test"].get("race")), num(r["UTKFace test"].get("age_mae")),
                   num(r["All-Age-Faces val"].get("age_mae")), pct1(r["FER+ PublicTest"].get("emotion")),
                   pct1(r["FER2013 PublicTest"].get("emotion")), f"{r['seconds']:.0f}"] for b, r in backends.items()])
    if "FairFace dev" in names:
        out += ["", ("FairFace `dev` (the paper's benchmark's own photos; facescan's split of FairFace train, never "
                "trained on): race % on FairFace's 7 (a UTKFace-5 model: the truth mapped to its 5, in brackets), "
                "age-group accuracy %, gender % of children and of people 60+:"), ""]
        rows = []
        for b, r in backends.items():
            f = r["FairFace dev"]
            race = pct1(f["race"]) if "race" in f else f"({pct1(f.get('race5'))})"
            rows.append([b, race, pct1(f.get("age9")), pct1(f.get("age5")), pct1(f.get("kids_gender")),
                         pct1(f.get("old_gender"))])
        out += table(["backend", "race", "age 9 groups", "age 5 groups", "gender 0-9", "gender 60+"], rows)
        turns = list(dict.fromkeys(k for r in backends.values() for k in r["FairFace dev"].get("by_turn", {})))
        if turns:
            turns = [k for k in turns if k != "no landmarks"] + ["no landmarks"] * ("no landmarks" in turns)
            out += ["", ("The same photos by how far the face is turned (from the landmarks of the face analysed, "
                         "as in `benchmarks/detect_real.py`): gender % / age-group %:"), ""]
            rows = []
            for b, r in backends.items():
                by = r["FairFace dev"].get("by_turn", {})
                rows.append([b, *(f"{pct1(by[k]['gender'])} / {pct1(by[k]['age9'])} (n={by[k]['n']})"
                                  if k in by else "-" for k in turns)])
            out += table(["backend", *turns], rows)
    smile = [r["CelebA test"].get("smile_happy") for r in backends.values()]
    if any(v is not None for v in smile):
        out += ["", "Emotion on real colour photos, CelebA `test`: the share of faces where \"happy\" agrees with "
                "CelebA's `Smiling` label: " + ", ".join(f"{b} {pct1(v)}%" for b, v in zip(backends, smile)) + "."]
    out += ["", "Images: " + ", ".join(f"{n} {first[n]['n']}" for n in names) + "."]
    return "\n".join(out)


# --- bench.py rows (run.sh): accuracy and speed of whole pipelines ------------------------------------------

def label(r: dict) -> str:
    return r["pipeline"] + "".join(f", {k}={r[k]}" for k in ("backend", "detector") if k in r)


def bench(result: dict, provenance=None) -> str:
    rows = result["rows"]
    utk = [r for r in rows if r["task"] == "accuracy-utkface" and any(k in r for k in ("gender", "race", "age_mae"))]
    fer = [r for r in rows if r["task"] == "accuracy-fer"]
    out = ["### Accuracy: UTKFace, facescan's fixed `test` split (1,914 chips)", ""]
    out += table(["pipeline", "gender", "race (5)", "age MAE (years)", "age 9-group", "age 5-group", "no face found"],
                 [[label(r), pct(r.get("gender")), pct(r.get("race")), num(r.get("age_mae")), pct(r.get("age_group9")),
                   pct(r.get("age_group5")), r["missed"]] for r in utk])
    out += ["", "### Accuracy: FER2013 PublicTest (3,589 faces, 48x48 grey)", ""]
    out += table(["pipeline", "emotion (7)", "no face found"], [[label(r), pct(r["emotion"]), r["missed"]] for r in fer])
    for task, title in (("speed-chips", "1,000 UTKFace chips (200x200 JPEG, one face each)"),
                        ("speed-groups", "40 composed group photos (1280x720 JPEG, 3-8 faces)")):
        speed = [r for r in rows if r["task"] == task]
        if not speed:
            continue
        ours = next((r for r in speed if r["pipeline"] == "facescan" and "backend" not in r), None)
        out += ["", f"### Speed: {title}", ""]
        out += table(["pipeline", "faces found", "faces/s (batch)", "images/s (batch)", "p50 ms/image", "p95 ms/image",
                      "peak RSS MB", "facescan faces/s ÷ this"],
                     [[label(r), f"{r['faces']}/{r.get('true_faces', r['images'])}", f"{r['faces_per_s']:.1f}",
                       f"{r['images_per_s']:.1f}", f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", f"{r['peak_rss_mb']:.0f}",
                       f"{ours['faces_per_s'] / r['faces_per_s']:.2f}x" if ours and r["faces_per_s"] else "-"]
                      for r in speed])
    text = "\n".join(out)
    return text + "\n\n" + blocks_md(result["blocks"]) if result.get("blocks") else text


# --- ann_bench.py, store_bench.py: vector indexes and the face store ----------------------------------------

def ann(result: dict, provenance=None) -> str:
    rows = sorted(result["rows"], key=lambda r: (r["data"], r["faces"], r["order"]))
    return "\n".join(table(
        ["faces", "embeddings", "index", "build s", "p50 ms", "p99 ms", "recall@10", "index file MB", "RSS growth MB"],
        [[f"{r['faces']:,}", r["data"], r["index"], r["build_s"], f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
          f"{r['recall10']:.3f}", r["file_mb"], f"{r['rss_growth_mb']:.0f}"] for r in rows]))


def store(result: dict, provenance=None) -> str:
    rows = sorted(result["rows"], key=lambda r: (r["backend"] != "sqlite", r["backend"], r["faces"]))
    head = "Embedding model " + ", ".join(sorted({r["model"] for r in rows}))
    if result["meta"].get("peak_rss_mb") is not None:
        head += f"; peak RSS of the last store_bench.py run {result['meta']['peak_rss_mb']} MB"
    head += "."
    return head + "\n\n" + "\n".join(table(
        ["backend", "faces (real)", "build s (inserts)", "search p50 ms", "p99 ms",
         "recall@10 (real / synthetic queries)", "disk MB", "RSS growth MB"],
        [[r["backend"], f"{r['faces']:,} ({r['real_faces']:,})", f"{r['build_s']} ({r['insert_s']})",
          f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
          f"{r['recall10']:.3f} ({r['recall10_real_queries']:.3f} / {r['recall10_synthetic_queries']:.3f})",
          f"{r['disk_mb']:.0f}", f"{r['rss_growth_mb']:.0f}"] for r in rows]))


# --- serve_bench.py: the service under load ---------------------------------------------------------------

def serve(result: dict, provenance) -> str:
    lines = []
    if "throughput" in result:
        t = result["throughput"]
        cli = t["cli"]["faces_per_s"]
        lines += [provenance(t["meta"]), "",
                  (f"CLI batch (`Analyzer.analyze_many`, batches of 16, same {t['photos']} photos): "
                   f"**{cli:.1f} faces/s** ({t['cli']['images_per_s']:.1f} images/s)."), ""]
        lines += table(["workers", "clients", "requests/s", "faces/s", "HTTP / CLI faces/s", "p50 ms", "p95 ms",
                        "p99 ms", "non-200", "client CPU (cores)"],
                       [[r["workers"], r["clients"], f"{r['requests_per_s']:.1f}", f"{r['faces_per_s']:.1f}",
                         f"{r['faces_per_s'] / cli:.2f}", f"{r['p50_ms']:.0f}", f"{r['p95_ms']:.0f}",
                         f"{r['p99_ms']:.0f}", sum(v for k, v in r["statuses"].items() if k != "200"),
                         f"{r['client_cpu_share']:.2f}"] for r in t["runs"]])
    if "saturation" in result:
        s = result["saturation"]
        codes = ", ".join(f"{k}: {v:,}" for k, v in sorted(s["statuses"].items()))
        other = sum(v for k, v in s["statuses"].items() if k not in ("200", "503"))
        rss = [m for _, m in s["rss_mb"]]
        half = len(rss) // 2
        lines += ["", provenance(s["meta"]), "",
                  (f"Saturation: {s['clients']} clients for {s['seconds']:.0f} s against 2 workers limited to "
                   f"{s['max_concurrency']} requests each (clients wait the Retry-After of a 503): {codes}; "
                   f"**{other} answers other than 200 and the designed 503**; {s['requests_per_s']:.1f} requests/s, "
                   f"p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms. Server RSS (supervisor + workers), sampled "
                   f"every 10 s: first {rss[0]:.0f} MB, max {max(rss):.0f} MB, last {rss[-1]:.0f} MB; mean of the "
                   f"first half {statistics.fmean(rss[:half]):.0f} MB, second half "
                   f"{statistics.fmean(rss[half:]):.0f} MB.")]
    return "\n".join(lines).strip("\n")


# --- video_bench.py: speed, tracking, memory ---------------------------------------------------------------

def video(result: dict, provenance) -> str:
    w, h = result["size"]
    fps = result["fps"]
    lines = []
    sp = result.get("speed")
    if sp:
        lines += [(f"Synthetic {w}x{h} clip, {sp['seconds']:.0f} s at {fps:.0f} fps ({sp['frames']} frames), 4 people "
                  "(UTKFace chips at 216 px) crossing, occluded, entering and leaving; all four attributes, "
                   "tracking on. Wall time of `facescan.video.analyze_video` (decoding in its own thread) after a "
                   "warm-up."), ""]
        lines += table(["run", "frames analysed", "seconds", "speed"], [
            ["5 sampled fps (the default)", sp["fps5_frames"], f"{sp['fps5_s']:.1f}",
             f"**{sp['x_realtime']:.1f}x real time**"],
            ["5 sampled fps, `facescan video` with -o, --tracks and --annotate (model loading included)",
             sp["fps5_frames"], f"{sp['seconds'] / sp['cli_annotate_x_realtime']:.1f}",
             f"{sp['cli_annotate_x_realtime']:.1f}x real time"],
            ["every frame (`--every 1`)", sp["all_frames"], f"{sp['all_s']:.1f}",
             f"**{sp['all_fps']:.1f} frames/s** ({sp['all_fps'] / fps:.2f}x real time)"],
            ["decoding alone, every frame to RGB", sp["frames"], "-", f"{sp['decode_all_fps']:.0f} frames/s"]])
        lines.append("")
    tr = result.get("tracking")
    if tr:
        lines += [(f"Tracking: {tr['clips']} synthetic 640x360 clips of {tr['seconds']:.0f} s (4 different people each, "
                  f"{4 * tr['clips']} people), 5 sampled fps, the same detections fed to each "
                   "tracker. IDF1, MOTA, switches and fragmentations by motmetrics 1.4.0 (IoU >= 0.5 to a "
                   "ground-truth face box; people under half visible are not in the ground truth); "
                   "\"IDF1 (own)\" is score_tracks (tests/synth/clips.py) on the same data, as a cross-check. ByteTrack: "
                   "supervision 0.29.1 (its last release with ByteTrack), lost-track buffer set to the same 2 s "
                   "as facescan's, other settings its defaults. facescan keeps its own tracker (fewer switches)."), ""]
        lines += table(["tracker", "IDF1", "IDF1 (own)", "MOTA", "identity switches", "fragmentations"],
                       [[name, f"{m['idf1']:.3f}", f"{m['idf1_own']:.3f}", f"{m['mota']:.3f}", m["switches"],
                         m["fragmentations"]] for name, m in tr["trackers"].items()])
        a = tr["attributes"]
        lines += ["", ("Attributes on the same clips (facescan tracker, no embeddings): per frame, each matched face's "
                  "own prediction; per track, the track's averaged prediction, counted once per person and once "
                       "per matched frame. Every frame shows the same photo of a person, so averaging removes "
                       "frame-to-frame noise (crops, partial occlusion) but not a model's systematic error on a face."),
                  ""]
        lines += table(["level", "n", "gender", "race (UTK 5)", "age 9-group", "age MAE (years)"],
                       [[title, a[k]["gender"][1], f"{100 * a[k]['gender'][0]:.1f}%", f"{100 * a[k]['race'][0]:.1f}%",
                         f"{100 * a[k]['age9'][0]:.1f}%", f"{a[k]['age_err'][0]:.2f}"]
                        for k, title in (("frame", "per frame"), ("track", "per track (per person)"),
                                         ("track_frames", "per track (per matched frame)"))])
        lines.append("")
    rss = result.get("rss")
    if rss:
        lines += [(f"Memory: `facescan video` with -o, --tracks and --annotate over a {rss['minutes']:.0f}-minute "
                  f"{w}x{h} video (the 30-s script repeated; {rss['run_s']:.0f} s, {rss['x_realtime']:.1f}x real time): "
                   f"**peak RSS {rss['peak_mb']:.0f} MB**, {rss['peak_first_tenth_mb']:.0f} MB within the first tenth "
                   "of the run (RSS of the process, sampled every 0.5 s from /proc)."), ""]
    lines.append(f"Annotated videos are encoded with `{result['encoder']}` (PyAV 18.1.0's wheel).")
    lines += ["", *(f"- {part}: {provenance(result[part]['meta'])}" for part in ("rss", "speed", "tracking")
                    if part in result)]
    return "\n".join(lines)


RENDER = {"wild": wild, "bench": bench, "ann": ann, "store": store, "serve": serve, "video": video}


# --- the headline: current numbers from several result files ----------------------------------------------

def when(result: dict) -> str:
    meta = result["meta"] if "meta" in result else next(v["meta"] for v in result.values() if isinstance(v, dict)
                                                         and "meta" in v)
    return f"{meta['measured']}, {meta.get('machine') or 'machine not recorded'}"


def headline(load, find) -> str:
    """Two tables: the default model on every shared set, and speed / detection / identity / store /
    service / video / Ray, each with the date and machine of its result file."""
    w = load("wild")
    f = w["backends"]["facescan"]
    rows = []
    for name, m in f.items():
        if name == "seconds":
            continue
        gender = (f"{pct1(m['gender'])} ({pct1(m.get('female_recall'))} / {pct1(m.get('male_recall'))})"
                  if "gender" in m else "-")
        race = (f"{pct1(m['race'])} ({'7' if name.startswith('FairFace') else '5'} classes)" if "race" in m else "-")
        age = (f"MAE {m['age_mae']:.2f}" if "age_mae" in m
               else f"{pct1(m['age9'])}% of 9 groups" if "age9" in m else "-")
        emotion = (f"{pct1(m['emotion'])} ({'8' if name.startswith('FER+') else '7'} classes)" if "emotion" in m
                   else f"{pct1(m['smile_happy'])} (\"happy\" = Smiling)" if "smile_happy" in m else "-")
        rows.append([name, m["n"], gender, race, age, emotion])
    out = [f"The default model (`facescan`) on every shared set, measured {when(w)} ([every set and backend](#attributes)):",
           ""]
    out += table(["set", "images", "gender % (female / male recall)", "race %", "age", "emotion %"], rows)
    speed, det, ident, wider = load("speed_v3"), load("detect_real"), load("identity"), load("detect_wider")
    st, sv, vd, ray = load("store"), load("serve"), load("video"), load("ray")
    big = max((r for r in st["rows"] if r["backend"] == "sqlite"), key=lambda r: r["faces"])
    pg = max((r for r in st["rows"] if r["backend"] != "sqlite"), key=lambda r: r["faces"])
    http = next(r for r in sv["throughput"]["runs"] if r["workers"] == 2 and r["clients"] == 16)
    cli = sv["throughput"]["cli"]["faces_per_s"]
    d = "default (yunet"
    rows = [
        ["Speed: faces/s, 1,000 UTKFace chips, 4 attributes, detection included",
         find(speed, "facescan ", "faces/s"),
         (f"facescan-v2 {find(speed, 'facescan-v2', 'faces/s')}, faceapi (peer, 2 attributes) "
          f"{find(speed, 'faceapi', 'faces/s')}"), when(speed), "[speed](#speed)"],
        ["Detection: FairFace photos with their face found", find(det, "all", d),
         f"yunet alone {find(det, 'all', 'yunet alone')}, mtcnn {find(det, 'all', 'mtcnn')}", when(det),
         "[detection](#detection-on-real-photos)"],
        ["Detection: WIDER FACE val crowd photos at 512 px, faces of 10 px and more found", find(wider, "recall", "yunet auto (default)"),
         (f"before the mirror {find(wider, 'recall', 'yunet auto before')}, one pass {find(wider, 'recall', 'yunet 1 pass')}, "
          f"mtcnn {find(wider, 'recall', 'mtcnn')}"), when(wider),
         "[crowds](#detection-on-real-group-and-crowd-photos-wider-face)"],
        ["Detection: false faces on photos without one", find(det, "false faces", d),
         f"yunet alone {find(det, 'false faces', 'yunet alone')}, mtcnn {find(det, 'false faces', 'mtcnn')}",
         when(det), "[detection](#detection-on-real-photos)"],
        ["Detection: ms per 1280x720 photo with / without a face",
         f"{find(det, 'ms per 1280x720 photo with a', d)} / {find(det, 'ms per 1280x720 photo without', d)}",
         (f"yunet alone {find(det, 'ms per 1280x720 photo with a', 'yunet alone')} / "
          f"{find(det, 'ms per 1280x720 photo without', 'yunet alone')}"), when(det),
         "[detection](#detection-on-real-photos)"],
        ["Identity: LFW-a verification accuracy (`sface`)", find(ident, "sface", "accuracy"),
         f"sface-fast {find(ident, 'sface-fast', 'accuracy')}, dlib {find(ident, 'dlib', 'accuracy')}",
         when(ident), "[identity](#identity-embedders-lfw-a-verification-and-speed)"],
        [f"Store: {big['faces']:,} faces in SQLite, search p50 ms / recall@10",
         f"{big['p50_ms']:.2f} / {big['recall10']:.3f}", f"{pg['backend']}: {pg['p50_ms']:.2f} / {pg['recall10']:.3f}",
         when(st),
         "[store](#face-store-at-scale)"],
        ["Service: faces/s through HTTP, 2 workers, 16 clients", f"{http['faces_per_s']:.1f}",
         f"the CLI batch {cli:.1f} (HTTP / CLI {http['faces_per_s'] / cli:.2f})", when(sv["throughput"]),
         "[service](#service-under-load)"],
        ["Video: 1280x720 clip at 5 sampled fps, 4 attributes, tracking", f"{vd['speed']['x_realtime']:.1f}x real time",
         f"every frame {vd['speed']['all_fps']:.1f} frames/s; peak RSS {vd['rss']['peak_mb']:.0f} MB (10 minutes)",
         when(vd["speed"]), "[video](#video)"],
        ["Ray: faces/s, 2,000 LFW-a photos, 2 actors on these 2 cores",
         find(ray, "`--engine ray --actors 2`", "faces/s"), f"local (no Ray) {find(ray, 'local', 'faces/s')}",
         when(ray), "[scale-out](#scale-out-with-ray)"],
    ]
    out += ["", ("Speed, detection, identity, store, service, video and scale-out (the default models; each from "
                 "its section below):"), ""]
    out += table(["measure", "default", "beside it", "measured", "section"], rows)
    return "\n".join(out)
