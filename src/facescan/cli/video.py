"""facescan video: faces, attributes and tracks (people) through video files and streams."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from .common import (
    EXIT_INPUT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    add_finding_options,
    embed_help,
)


def _annotate_path(target: str, source: str, several: bool) -> Path:
    path = Path(target)
    return path.with_name(f"{path.stem}-{Path(source).stem or 'stream'}{path.suffix}") if several else path


class _Run:
    """The outputs of one command: frames JSONL, tracks, thumbnails, a summary on stdout."""

    def __init__(self, args: argparse.Namespace) -> None:
        from ..output import open_writer
        from ..video.write import TracksWriter

        if args.output and args.output != "-" and not args.output.lower().endswith((".jsonl", ".ndjson")):
            from ..errors import ConfigError

            raise ConfigError(f"-o {args.output}: frames are written as JSONL: use a name ending in .jsonl, or '-'")
        self.frames = open_writer(args.output, sys.stdout) if args.output else None
        self.tracks = TracksWriter(args.tracks) if args.tracks else None
        self.thumbs = Path(args.thumbnails) if args.thumbnails else None
        self.quiet, self.summary = args.quiet, not args.output and not args.tracks
        self.n_frames = self.n_faces = self.n_tracks = self.n_short = self.errors = 0

    def track_done(self, source: str, track) -> None:
        from ..output import describe
        from ..video.write import save_thumbnail

        self.n_tracks += 1
        if self.thumbs is not None:
            save_thumbnail(track, self.thumbs, Path(source).stem or "stream")
        if self.tracks is not None:
            self.tracks.write(source, track)
        if self.summary:
            print(f"  track #{track.id}: {track.first_time_s:.1f}-{track.last_time_s:.1f} s, {track.frames} "
                  f"frames: {describe(track.attributes)}", flush=True)

    def frame_done(self, result) -> None:
        self.n_frames += result.error is None
        self.n_faces += len(result.faces)
        if result.error is not None:
            self.errors += 1
            print(f"facescan: {result.error}", file=sys.stderr, flush=True)
        if self.frames is not None:
            self.frames.write(result)

    def close(self) -> None:
        for writer in (self.frames, self.tracks):
            if writer is not None:
                writer.close()


def _one(analyzer, source: str, args: argparse.Namespace, run: _Run, several: bool, progress) -> None:
    from ..video import Tracker, VideoSource, analyze_video
    from ..video.write import AnnotatedVideo

    src = VideoSource(source, args.fps, args.every, max_pixels=analyzer.max_pixels, timeout=args.timeout,
                      sequence_fps=args.sequence_fps)
    tracker = Tracker(max_lost_s=args.max_lost, keep_predictions=False, thumbnails=run.thumbs is not None,
                      min_frames=args.min_track_frames)
    video = None
    if run.summary:
        print(f"{source}:", flush=True)
    results = analyze_video(analyzer, src, batch_size=args.batch_size, tracker=tracker,
                            keep_images=bool(args.annotate), timeout=args.timeout)
    try:
        with contextlib.closing(results):
            for result in results:
                run.frame_done(result)
                if args.annotate and result.image is not None:
                    if video is None:
                        rate = src.rate or src.sequence_fps
                        fps = min(src.fps, rate) if src.fps else rate / (src.every or 1)
                        video = AnnotatedVideo(_annotate_path(args.annotate, source, several), fps)
                    video.write(result, tracker)
                for track in tracker.pop_ended():
                    run.track_done(source, track)
                if progress is not None:
                    progress.update(1)
                    progress.set_postfix(faces=run.n_faces, tracks=run.n_tracks + len(tracker.active), refresh=False)
    finally:  # also on Ctrl-C: the tracks so far are written, the video is closed playable
        for track in tracker.finish():
            run.track_done(source, track)
        run.n_short += tracker.dropped
        if video is not None:
            video.close()


def run(args: argparse.Namespace) -> int:
    from ..pipeline import Analyzer
    from ..video import iter_video_inputs
    from ..video.source import check_sampling

    check_sampling(args.fps, args.every)
    if args.min_track_frames < 1:
        from ..errors import ConfigError

        raise ConfigError(f"--min-track-frames {args.min_track_frames}: use 1 or more")
    sources = list(iter_video_inputs(args.inputs))
    if not sources:
        print("facescan: no videos found in the given paths", file=sys.stderr)
        return EXIT_USAGE
    analyzer = Analyzer(args.attributes, backend=args.backend, detector=args.detector, min_score=args.min_score,
                        detect_scales=args.detect_scales, max_faces=args.max_faces, embed=args.embed,
                        if_no_face=args.if_no_face)
    out = _Run(args)
    progress = None
    if not args.quiet:
        from tqdm import tqdm

        progress = tqdm(unit="frame", file=sys.stderr, disable=None)
    try:
        for source in sources:
            _one(analyzer, source, args, out, len(sources) > 1, progress)
    except KeyboardInterrupt:
        print(f"\nfacescan: interrupted after {out.n_frames} frames; results so far are saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if progress is not None:
            progress.close()
        out.close()
    if not args.quiet:
        print(f"facescan: {len(sources)} input(s), {out.n_frames} frames analysed, {out.n_faces} faces, "
              f"{out.n_tracks} tracks ({out.n_short} shorter than {args.min_track_frames} frames left out), "
              f"{out.errors} errors", file=sys.stderr)
    return EXIT_INPUT_ERRORS if out.errors else EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    from .. import registry
    from ..pipeline import ALL_ATTRIBUTES, ATTRIBUTES, DEFAULT_BACKEND
    from ..video.track import MIN_FRAMES

    p = sub.add_parser("video", help="analyse videos, image sequences, webcams or streams; faces tracked per person")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, folders of them, an image sequence "
                   "(frames/%%05d.png or 'frames/*.jpg'), a webcam index (0) or a stream URL (rtsp://, http://)")
    p.add_argument("-o", "--output", help="per-frame records to FILE.jsonl or '-' (stdout): the analyze record "
                   "plus frame, time_s and each face's track")
    p.add_argument("--tracks", metavar="FILE", help="per-track summary to FILE.json or FILE.csv (time span, "
                   "frames, attributes averaged over the track, thumbnail)")
    p.add_argument("--annotate", metavar="OUT.mp4", help="write the analysed frames with boxes, track ids and "
                   "labels averaged over each track (H.264 where PyAV has it, else MPEG-4)")
    p.add_argument("--thumbnails", metavar="DIR", help="save each track's best face crop here")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--fps", type=float, help="analyse this many frames per second (default 5)")
    rate.add_argument("--every", type=int, metavar="N", help="analyse every Nth frame (1: all)")
    p.add_argument("--attributes", default=",".join(ATTRIBUTES),
                   help=f"comma-separated subset of {','.join(ALL_ATTRIBUTES)} (default: {','.join(ATTRIBUTES)})")
    p.add_argument("--backend", default=DEFAULT_BACKEND, metavar="NAME",
                   help=f"attribute models: {', '.join(registry.names('backend'))}")
    add_finding_options(p)
    p.add_argument("--embed", nargs="?", const=True, default=False, metavar="MODEL",
                   help=f"identity embeddings ({embed_help()}): recorded per "
                   "face and used by the tracker to tell people apart (slower)")
    p.add_argument("--max-lost", type=float, default=2.0, metavar="S",
                   help="a track ends when its face is not seen for S seconds (default 2)")
    p.add_argument("--min-track-frames", type=int, default=MIN_FRAMES, metavar="N",
                   help=f"report only tracks seen in at least N analysed frames (default {MIN_FRAMES}: a face seen "
                   "once or twice is most often a false one; 1 reports every track); the per-frame records keep "
                   "every face")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="streams: seconds to wait for opening and for each read (default 10)")
    p.add_argument("--sequence-fps", type=float, default=25.0, metavar="F",
                   help="frame rate of image sequences (default 25)")
    p.add_argument("--batch-size", type=int, default=4, help="frames per inference batch (streams: 1); more is a little faster and takes more memory")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)
