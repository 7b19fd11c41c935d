"""facescan: find every face in an image and tell its gender, age, race and emotion, offline.

>>> import facescan
>>> faces = facescan.analyze("photo.jpg")          # doctest: +SKIP
>>> faces[0].attributes["age"].years                # doctest: +SKIP
>>> facescan.embed("photo.jpg")[0].embedding        # doctest: +SKIP
>>> facescan.track_video("clip.mp4")[0].attributes  # doctest: +SKIP
"""

from .errors import (
    ConfigError,
    DependencyError,
    FacescanError,
    ImageError,
    ModelError,
    StoreError,
    VideoError,
)
from .identity.verify import Verification
from .io import load_image
from .pipeline import ATTRIBUTES, Analyzer, analyze, embed, verify
from .store import FaceStore, open_store
from .target import TargetResult, find_person
from .types import Face, ImageResult, Prediction
from .video import FrameResult, Track, track_video

__version__ = "0.1.0"

__all__ = [
    "ATTRIBUTES",
    "Analyzer",
    "ConfigError",
    "DependencyError",
    "Face",
    "FaceStore",
    "FacescanError",
    "FrameResult",
    "ImageError",
    "ImageResult",
    "ModelError",
    "Prediction",
    "StoreError",
    "TargetResult",
    "Track",
    "Verification",
    "VideoError",
    "__version__",
    "analyze",
    "embed",
    "find_person",
    "load_image",
    "open_store",
    "track_video",
    "verify",
]
