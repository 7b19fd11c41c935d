import subprocess
import sys

import facescan


def test_public_api_is_pinned():
    assert sorted(facescan.__all__) == sorted([
        "ATTRIBUTES", "Analyzer", "ConfigError", "DependencyError", "Face", "FacescanError",
        "ImageError", "ImageResult", "ModelError", "Prediction", "__version__", "analyze", "embed",
        "load_image", "find_person", "TargetResult", "verify", "Verification", "FaceStore", "open_store",
        "StoreError", "VideoError", "FrameResult", "Track", "track_video"])
    for name in facescan.__all__:
        assert hasattr(facescan, name)


def test_import_is_light_and_has_no_side_effects():
    code = ("import sys, warnings, logging; import facescan; "
            "heavy = [m for m in ('torch', 'transformers', 'onnxruntime', 'pyarrow', 'faiss', 'psycopg', 'sqlite3', 'av') if m in sys.modules]; "
            "assert not heavy, heavy; assert logging.getLogger().handlers == []")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_errors_form_one_tree():
    from facescan.errors import BackendError

    for exc in (facescan.ImageError, facescan.ModelError, facescan.ConfigError, facescan.DependencyError,
                BackendError, facescan.StoreError, facescan.VideoError):
        assert issubclass(exc, facescan.FacescanError)
