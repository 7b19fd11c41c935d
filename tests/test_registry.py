"""facescan.registry: one table of every name an option takes. A toy detector registered from
tests/toy_detector.py runs through the Python API, the CLI and the service; wrong names get
"did you mean", missing extras the pip command; `facescan models` and /v1/models list the table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from serve_helpers import EXAMPLE
from toy_detector import centre_square

import facescan
from facescan import cli, registry
from facescan.errors import ConfigError, DependencyError

ABSENT_EXTRA = "facescan-test-absent-extra"  # no module of that name is installed


@pytest.fixture
def toy():
    """The toy detector, and one that needs an extra nobody has, registered for one test."""
    registry.register("detector", "toy", "toy_detector:CentreSquare", "the centre square is the face")
    registry.register("detector", "toy-extra", "toy_detector:CentreSquare", "needs an absent extra",
                      extra=ABSENT_EXTRA)
    try:
        yield
    finally:
        registry.unregister("detector", "toy")
        registry.unregister("detector", "toy-extra")


def _example_size() -> tuple[int, int]:
    from PIL import Image

    with Image.open(EXAMPLE) as img:
        return img.size


def test_a_registered_detector_runs_through_the_python_api(toy):
    (face,) = facescan.analyze(str(EXAMPLE), attributes="gender", detector="toy")
    assert face.bbox == pytest.approx(centre_square(*_example_size()))
    assert face.found_by == "toy" and face.attributes["gender"].label in ("male", "female")
    (face,) = facescan.Analyzer("age", detector="toy").analyze(str(EXAMPLE))
    assert list(face.attributes) == ["age"]


def test_a_registered_detector_runs_through_the_cli(toy, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    assert cli.main(["analyze", str(EXAMPLE), "--detector", "toy", "--attributes", "gender", "-q",
                     "-o", str(out)]) == cli.EXIT_OK
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    (face,) = record["faces"]
    assert face["bbox"] == pytest.approx(list(centre_square(*_example_size())), abs=0.01)
    assert face["found_by"] == "toy"
    with pytest.raises(SystemExit):
        cli.main(["analyze", "--help"])
    helped = " ".join(capsys.readouterr().out.split())
    assert "--detector {yunet,mtcnn,yunet+mtcnn,none,toy,toy-extra}" in helped
    assert "toy: the centre square is the face" in helped and f"(needs facescan[{ABSENT_EXTRA}])" in helped


def test_unknown_names_say_what_was_meant(capsys):
    with pytest.raises(ConfigError) as info:
        registry.entry("detector", "yunett")
    assert str(info.value) == "unknown detector 'yunett': did you mean 'yunet'? (choices: yunet, mtcnn, yunet+mtcnn, none)"
    with pytest.raises(ConfigError, match=r"unknown detector 'zzz' \(choices: yunet, mtcnn, yunet\+mtcnn, none\)"):
        facescan.analyze(str(EXAMPLE), detector="zzz")
    with pytest.raises(ConfigError, match="unknown embedding model 'sfac': did you mean 'sface'"):
        facescan.Analyzer(embed="sfac")
    with pytest.raises(ConfigError, match="unknown backend 'facescan-v3': did you mean 'facescan-v2'"):
        facescan.Analyzer(backend="facescan-v3")
    with pytest.raises(ConfigError, match=r"unknown backend 'florence2:x': did you mean 'florence-2'\? "
                       r"\(choices: facescan, .*, fer, paligemma\[:ARG\], .*gemini\[:ARG\]\)"):
        facescan.Analyzer(backend="florence2:x")
    with pytest.raises(ConfigError, match="unknown vision-language backend 'paligema': did you mean 'paligemma'"):
        from facescan.vlm import make_backend

        make_backend("paligema:some/where", ("gender",))
    with pytest.raises(ConfigError, match="unknown store scheme 'postgresq': did you mean 'postgresql'"):
        facescan.open_store("postgresq://localhost/faces")
    # the command line: a usage error (exit 2) with the same words
    with pytest.raises(SystemExit) as exit_:
        cli.main(["analyze", str(EXAMPLE), "--detector", "yunett"])
    assert exit_.value.code == cli.EXIT_USAGE
    assert "unknown detector 'yunett': did you mean 'yunet'?" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["analyze", str(EXAMPLE), "--engine", "rayy"])
    assert exit_.value.code == cli.EXIT_USAGE and "did you mean 'ray'?" in capsys.readouterr().err
    assert cli.main(["analyze", str(EXAMPLE), "--backend", "fers", "-q"]) == cli.EXIT_USAGE
    assert "unknown backend 'fers': did you mean 'fer'?" in capsys.readouterr().err


def test_a_missing_extra_names_the_pip_command(toy, capsys):
    assert not registry.entry("detector", "toy-extra").installed and registry.entry("detector", "toy").installed
    message = f"detector 'toy-extra' needs `pip install 'facescan[{ABSENT_EXTRA}]'`"
    with pytest.raises(DependencyError) as info:
        facescan.Analyzer(detector="toy-extra")
    assert str(info.value) == message
    assert cli.main(["analyze", str(EXAMPLE), "--detector", "toy-extra", "-q"]) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_register_refuses_what_it_cannot_use():
    with pytest.raises(ConfigError, match="already registered"):
        registry.register("detector", "yunet", "toy_detector:CentreSquare", "a second yunet")
    with pytest.raises(ConfigError, match="unknown registry kind 'detectors'"):
        registry.register("detectors", "toy", "toy_detector:CentreSquare", "")
    with pytest.raises(ConfigError, match="package.module:Attr"):
        registry.register("detector", "toy", "toy_detector:", "")
    with pytest.raises(ConfigError, match="unknown detector"):
        registry.unregister("detector", "toy")
    assert "toy" not in registry.names("detector")


def test_every_built_in_name_loads():
    """Each target exists (imported, nothing built); attribute backends name catalog models."""
    from facescan.models import get_spec

    for kind in registry.KINDS:
        for entry in registry.entries(kind):
            if entry.installed:
                assert entry.load() is not None, entry
    for name in registry.names("backend"):
        for attribute, model in registry.load("backend", name).items():
            assert attribute in get_spec(model).attributes, (name, attribute, model)


def test_models_command_lists_the_registry(toy, capsys):
    assert cli.main(["models", "--names", "--json"]) == cli.EXIT_OK
    listed = json.loads(capsys.readouterr().out)
    assert listed == {kind: [e.to_dict() for e in registry.entries(kind)] for kind in registry.KINDS}
    assert {"name": "toy-extra", "target": "toy_detector:CentreSquare", "help": "needs an absent extra",
            "extra": ABSENT_EXTRA, "installed": False} in listed["detector"]
    assert cli.main(["models"]) == cli.EXIT_OK
    rows = {" ".join(line.split()) for line in capsys.readouterr().out.splitlines()}
    for kind in registry.KINDS:
        for e in registry.entries(kind):
            extra = (e.extra + ("" if e.installed else " (not installed)")) if e.extra else "-"
            assert " ".join(f"{kind} {e.name} {extra} {e.help}".split()) in rows, e
    # the installed command, in its own process, lists the built-in names
    run = subprocess.run([sys.executable, "-m", "facescan.cli", "models", "--names", "--json"],
                         capture_output=True, text=True, check=True)
    assert {k: [e["name"] for e in v] for k, v in json.loads(run.stdout).items()} == \
        {k: [n for n in registry.names(k) if not n.startswith("toy")] for k in registry.KINDS}


def test_service_lists_and_validates_the_registry(toy):
    from serve_helpers import live_server, need_serve_deps

    need_serve_deps()
    import httpx

    from facescan.serve import Settings

    with live_server(Settings(preload=False)) as url:
        models = httpx.get(f"{url}/v1/models").json()
        assert models["registry"] == {kind: [{k: v for k, v in e.to_dict().items() if k != "target"}
                                             for e in registry.entries(kind)] for kind in registry.KINDS}
        assert models["detectors"] == ["yunet", "mtcnn", "yunet+mtcnn", "none", "toy"]  # installed ones only
        assert list(models["backends"]) == list(registry.names("backend"))
        assert models["backends"]["fer"] == {"emotion": "fer-mini-xception"}
        assert models["embedders"] == list(registry.installed("embedder"))
        schema = json.dumps(httpx.get(f"{url}/openapi.json").json())
        assert '"toy"' in schema and '"toy-extra"' not in schema
        files = [("images", (EXAMPLE.name, EXAMPLE.read_bytes(), "image/jpeg"))]
        r = httpx.post(f"{url}/v1/analyze", files=files, data={"detector": "toy", "attributes": "gender"}, timeout=60)
        assert r.status_code == 200, r.text
        (face,) = r.json()["results"][0]["faces"]
        assert face["found_by"] == "toy" and face["bbox"] == pytest.approx(list(centre_square(*_example_size())))
        for bad in ("yunett", "toy-extra"):
            r = httpx.post(f"{url}/v1/analyze", files=files, data={"detector": bad}, timeout=60)
            assert r.status_code == 422 and "detector" in r.text, r.text
