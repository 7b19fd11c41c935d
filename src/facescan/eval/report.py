"""``facescan report``: tables and plots from saved runs (``metrics.json`` of each RUN_DIR),
as one self-contained HTML page (plots embedded as base64 PNG) or as Markdown tables. A report
never runs a model: it reads only what ``facescan eval`` wrote.
"""

from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

NAMES = {"lfw": "LFW View-2", "utkface": "UTKFace", "fer2013": "FER2013", "fairface": "FairFace", "affectnet": "AffectNet",
         "rafdb": "RAF-DB", "csv": "CSV", "folder": "folder"}
# metrics key -> column title; classification keys show "accuracy (macro-F1)", age the MAE
COLUMNS = (("gender", "gender"), ("race", "race"), ("race4", "race (4)"), ("age_group5", "age 5 groups"),
           ("age_group", "age 9 groups"), ("age", "age MAE"), ("emotion", "emotion"))
FAIRNESS = ("gender_by_race", "gender_by_age_group", "race_by_gender", "race_by_age_group",
            "age_group5_by_race", "age_group5_by_gender", "age_group5_by_race_gender", "emotion_by_gender",
            "emotion_by_race")
CONFUSIONS = ("race", "emotion", "age_group5", "age_group", "gender")
CALIBRATIONS = ("gender", "race", "emotion")

Cell = tuple[str, bool]  # text, emphasised
Table = tuple[list[str], list[list[Cell]]]


@dataclass
class Run:
    path: Path
    metrics: dict[str, Any]
    title_suffix: str = ""  # tells apart runs whose titles would be the same

    @property
    def title(self) -> str:
        info = self.metrics.get("dataset_info") or {}
        kind = info.get("kind") or self.metrics.get("dataset", "").partition(":")[0]
        split = info.get("split")
        return f"{NAMES.get(kind, kind or self.path.name)}{' ' + split if split else ''}{self.title_suffix}"

    @property
    def backends(self) -> dict[str, dict[str, Any]]:
        return self.metrics["backends"]

    @property
    def verification(self) -> bool:
        return self.metrics.get("task") == "verification"


def load_runs(dirs: list[str]) -> list[Run]:
    runs = []
    for d in dirs:
        path = Path(d) / "metrics.json"
        if not path.is_file():
            raise ConfigError(f"{d}: no metrics.json (run `facescan eval --out {d}` first)")
        try:
            runs.append(Run(Path(d), json.loads(path.read_text(encoding="utf-8"))))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    titles = [r.title for r in runs]
    for r in runs:  # two runs on the same split: tell them apart by folder
        if titles.count(r.title) > 1:
            r.title_suffix = f" [{r.path.name}]"
    return runs


def _pct(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def _best(values: list[float | None], lower: bool = False) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if len(vals) < 2:
        return None
    return min(vals) if lower else max(vals)


def comparison_table(runs: list[Run]) -> Table:
    """backend x (data set, attribute): accuracy % (macro-F1 %), age MAE in years; best bold."""
    runs = [r for r in runs if not r.verification]  # pairs: see verification_table
    cols = [(r, key, f"{r.title} {title}" + (f" ({len(_first(r, key)['labels'])})"
                                             if key in ("race", "emotion") else ""))
            for r in runs for key, title in COLUMNS if any(key in m for m in r.backends.values())]
    backends = list(dict.fromkeys(b for r in runs for b in r.backends))
    rows: list[list[Cell]] = [[(b, False)] for b in backends]
    for run, key, _ in cols:
        vals = [_value(run.backends.get(b, {}).get(key), key) for b in backends]
        best = _best(vals, lower=key == "age")
        for row, b, v in zip(rows, backends, vals):
            m = run.backends.get(b, {}).get(key)
            if m is None:
                row.append(("-", False))
            elif key == "age":
                row.append((f"{m['mae']:.2f}", v == best))
            else:
                row.append((f"{_pct(m['accuracy'])} ({_pct(m['macro_f1'])})", v == best))
    return ["backend", *[c[2] for c in cols]], rows


def _first(run: Run, key: str) -> dict[str, Any]:
    return next(m[key] for m in run.backends.values() if key in m)


def _value(m: dict[str, Any] | None, key: str) -> float | None:
    if m is None:
        return None
    return m["mae"] if key == "age" else m["accuracy"]


def rates_table(run: Run) -> Table:
    head = ["backend", "n", "failed %", "unparsed %", "no face %", "samples/s", "ms/sample p50", "not produced"]
    rows = [[(b, False), (str(m["n"]), False), (_pct(m.get("failed_rate")), False),
             (_pct(m.get("unparsed_rate")), False), (_pct(m.get("no_face_rate")), False),
             (f"{m['throughput_per_s']:.1f}" if "throughput_per_s" in m else "-", False),
             (f"{m['latency_ms_p50']:.1f}" if "latency_ms_p50" in m else "-", False),
             (", ".join(m.get("not_produced", [])) or "-", False)] for b, m in run.backends.items()]
    return head, rows


def verification_table(run: Run) -> Table:
    """Identity embedders on verification pairs: View-2 accuracy (threshold from the other
    folds) ± std over folds, ROC AUC, TAR at each FAR, the all-pairs threshold with its
    FAR / FRR, the held-out log loss of the calibrated probability, faces/s; best bold."""
    ms = run.backends
    fars = [t["far"] for t in next(iter(ms.values()))["tar_at_far"]]
    head = ["model", "accuracy % ± std", "ROC AUC", *[f"TAR % @ FAR {f:g}" for f in fars],
            "threshold (FAR % / FRR %)", "log loss (held out)", "faces/s"]
    best_acc = _best([m["accuracy"] for m in ms.values()])
    best_auc = _best([m["roc_auc"] for m in ms.values()])
    rows = []
    for name, m in ms.items():
        tars = [(f"{_pct(t['tar'])}{'' if t['meaningful'] else '*'}", False) for t in m["tar_at_far"]]
        th = m["threshold"]
        rows.append([(name, False), (f"{_pct(m['accuracy'])} ± {_pct(m['accuracy_std'])}", m["accuracy"] == best_acc),
                     (f"{m['roc_auc']:.4f}", m["roc_auc"] == best_auc), *tars,
                     (f"{th['value']:.3f} ({_pct(th['far'])} / {_pct(th['frr'])})", False),
                     (f"{m['calibration']['held_out_log_loss']:.3f}", False), (f"{m['faces_per_s']:.1f}", False)])
    return head, rows


def _verification_note(run: Run) -> str:
    m = next(iter(run.backends.values()))
    info = run.metrics.get("dataset_info") or {}
    few = [t for t in m["tar_at_far"] if not t["meaningful"]]
    note = (f"{info.get('pairs')} pairs in {info.get('folds')} folds ({m['n_different']} different-person "
            f"pairs), {info.get('images')} images, no face found in {info.get('no_face')} (central box used).")
    if few:
        listed = ", ".join(f"{t['far']:g}" for t in few)
        note += (f" * FAR {listed}: too few different-person pairs to "
                 "measure it (no false accept allowed at all).")
    return note


def fairness_table(run: Run) -> Table | None:
    """breakdown x backend: largest accuracy gap in points (worst group) / equalised-odds
    difference; the smallest gap and EOD of each row in bold."""
    keys = [k for k in FAIRNESS if any(k in m for m in run.backends.values())]
    if not keys:
        return None
    rows = []
    for k in keys:
        gaps = {b: m[k] for b, m in run.backends.items() if k in m}
        best = _best([-g["max_gap"] for g in gaps.values()])
        row: list[Cell] = [(k.replace("_by_", " by "), False)]
        for b in run.backends:
            g = gaps.get(b)
            row.append(("-", False) if g is None else
                       (f"{_pct(g['max_gap'])} ({g.get('worst')}) / {g['equalized_odds']['difference']:.2f}",
                        best is not None and -g["max_gap"] == best))
        rows.append(row)
    return ["breakdown", *run.backends], rows


def recall_tables(run: Run) -> list[tuple[str, Table]]:
    """Per-class recall % for attributes with more than two classes; classes a backend cannot
    produce read 'n/p'."""
    out = []
    for key in ("race", "emotion", "age_group5", "age_group"):
        ms = {b: m[key] for b, m in run.backends.items() if key in m}
        if not ms:
            continue
        labels = next(iter(ms.values()))["labels"]
        rows = [[(b, False)] + [("n/p" if c in m.get("not_producible", ()) else _pct(m["per_class"][c]["recall"]),
                                 False) for c in labels] for b, m in ms.items()]
        support = [("n", False)] + [(str(next(iter(ms.values()))["per_class"][c]["support"]), False) for c in labels]
        out.append((key, (["backend", *labels], [*rows, support])))
    return out


def _md(table: Table) -> str:
    head, rows = table
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(f"**{t}**" if bold else t for t, bold in row) + " |" for row in rows]
    return "\n".join(lines)


def _html_table(table: Table) -> str:
    head, rows = table
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td{' class=best' if bold else ''}>{html.escape(t)}</td>"
                                    for t, bold in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _mappings(run: Run) -> list[str]:
    out = []
    for b, m in run.backends.items():
        for attr, desc in (m.get("mappings") or {}).items():
            if desc != "same label set":
                out.append(f"{b} / {attr}: {desc}")
    return out


def _about(run: Run) -> str:
    info = run.metrics.get("dataset_info") or {}
    skipped = ", ".join(f"{v} {k}" for k, v in (info.get("skipped") or {}).items()) or "none"
    return (f"{run.metrics.get('dataset') or info.get('root', '')}: n={run.metrics.get('n_samples')}, "
            f"detector {run.metrics.get('detector')}, published entries skipped: {skipped}")


def markdown(runs: list[Run]) -> str:
    parts = ["## Comparison: accuracy % (macro-F1 %); age MAE in years; best in bold", "",
             _md(comparison_table(runs))] if any(not r.verification for r in runs) else []
    for run in runs:
        if run.verification:
            parts += ["", f"### {run.title}: identity verification", "", _verification_note(run), "",
                      _md(verification_table(run))]
            continue
        parts += ["", f"### {run.title}", "", _about(run), "", _md(rates_table(run))]
        fair = fairness_table(run)
        if fair:
            parts += ["", ("Fairness: largest accuracy gap in points (worst group) / equalised-odds difference; "
                      "smallest gap in bold"),
                      "", _md(fair)]
        for key, table in recall_tables(run):
            parts += ["", f"Recall % per class, {key}", "", _md(table)]
        maps = _mappings(run)
        if maps:
            parts += ["", "Label mappings: " + "; ".join(maps)]
    return "\n".join(parts) + "\n"


CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1250px;color:#212529;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #dee2e6;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:13px}
th,td{border:1px solid #dee2e6;padding:4px 9px;text-align:right}td{white-space:nowrap}th{background:#f1f3f5}
td:first-child,th:first-child{text-align:left}td.best{font-weight:700;background:#ebfbee}
img{max-width:100%;margin:.4em 0 1em;border:1px solid #f1f3f5}.note{color:#495057;font-size:13px}
.figs{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"""


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _figures(run: Run) -> list[str]:
    from . import plots

    out = []
    for key in CONFUSIONS:
        panels = [(b, m[key]) for b, m in run.backends.items() if key in m]
        if panels:
            out.append(_img(plots.confusion_grid(f"{run.title}: {key} confusion (% of true class)", panels),
                            f"{key} confusion"))
    for key in FAIRNESS:
        panels = [(b, m[key]) for b, m in run.backends.items() if key in m]
        if panels:
            what, _, by = key.partition("_by_")
            out.append(_img(plots.group_bars(f"{run.title}: {what} accuracy by {by}", panels, list(run.backends)),
                            f"{key} accuracy"))
    out = ['<div class="figs">' + "".join(out) + "</div>"] if out else []
    cal = [plots.reliability(f"{run.title}: {key} calibration",
                             [(b, m[key]) for b, m in run.backends.items() if m.get(key, {}).get("calibration")],
                             list(run.backends))
           for key in CALIBRATIONS if any(m.get(key, {}).get("calibration") for m in run.backends.values())]
    if cal:
        out.append('<div class="figs">' + "".join(_img(png, "reliability") for png in cal) + "</div>")
    return out


def html_page(runs: list[Run]) -> str:
    intro = (f"<p class=note>Runs: {', '.join(html.escape(str(r.path)) for r in runs)}. "
             "Accuracy % (macro-F1 %), age MAE in years; best per column highlighted. Failed and "
             "unparsed predictions count as wrong. Equalised-odds difference (EOD): per class, the "
             "largest difference between groups in true-positive or false-positive rate; the largest "
             "over classes.</p>")
    body = ["<h1>facescan evaluation report</h1>", intro]
    if any(not r.verification for r in runs):
        body += ["<h2>Comparison</h2>", _html_table(comparison_table(runs))]
    for run in runs:
        if run.verification:
            body += [f"<h2>{html.escape(run.title)}: identity verification</h2>",
                     f"<p class=note>{html.escape(_verification_note(run))}</p>", _html_table(verification_table(run))]
            continue
        body += [f"<h2>{html.escape(run.title)}</h2>", f"<p class=note>{html.escape(_about(run))}</p>",
                 _html_table(rates_table(run))]
        fair = fairness_table(run)
        if fair:
            body += [("<h3>Fairness: largest accuracy gap in points (worst group) / EOD; smallest gap "
                     "highlighted</h3>"), _html_table(fair)]
        for key, table in recall_tables(run):
            body += [f"<h3>Recall % per class: {key}</h3>", _html_table(table)]
        maps = _mappings(run)
        if maps:
            body.append("<p class=note>Label mappings: " + html.escape("; ".join(maps)) + "</p>")
        body += _figures(run)
    return ("<!doctype html><html><head><meta charset=utf-8><title>facescan evaluation report</title>"
            f"<style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n")
