"""Video: faces and their attributes through video files and streams, tracked per person.

>>> tracks = facescan.track_video("interview.mp4")          # doctest: +SKIP
>>> from facescan.video import analyze_video
>>> for r in analyze_video(facescan.Analyzer(), "clip.mp4"):  # doctest: +SKIP
...     print(r.time_s, [f.attributes["gender"].label for f in r.faces], r.tracks)

PyAV (``pip install 'facescan[video]'``) is imported only when a video is opened.
"""

from .analyze import FrameResult, analyze_video, track_video
from .source import VideoSource, iter_video_inputs
from .track import Track, Tracker

__all__ = ["FrameResult", "Track", "Tracker", "VideoSource", "analyze_video", "iter_video_inputs", "track_video"]
