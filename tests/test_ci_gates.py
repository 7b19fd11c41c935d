"""tests/ci_gates.py in a real pytest run (pytester): under FACESCAN_REQUIRE_DATA=1 a skip, at
run time or on import, fails the run; a test marked for what is missing here is deselected and
counted in the summary, in either mode."""

from __future__ import annotations

import pytest

SUITE = {
    "test_things.py": """
        import pytest

        def test_passes():
            pass

        def test_wants_data():
            pytest.skip("real data not found at /nowhere")

        @pytest.fixture
        def service():
            pytest.skip("no server")

        def test_wants_a_service(service):
            pass

        @pytest.mark.xfail(reason="known", strict=True)
        def test_known_failure():
            assert False

        @pytest.mark.needs_facenet
        def test_facenet():
            assert False, "must never run here"

        @pytest.mark.needs_weights
        def test_weights():
            assert False, "must never run here"
    """,
    "test_extra.py": """
        import pytest

        pytest.importorskip("no_such_extra_module", reason="needs an extra")

        def test_never_collected():
            pass
    """,
}


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("FACESCAN_REQUIRE_DATA", raising=False)
    monkeypatch.delenv("FACESCAN_VLM_WEIGHTS", raising=False)
    pytester.makepyfile(**SUITE)
    pytester.makeini("[pytest]\nmarkers =\n    needs_facenet: x\n    needs_weights: x\n")
    return pytester


def _run(suite: pytest.Pytester, *args: str) -> pytest.RunResult:
    return suite.runpytest_inprocess("-p", "ci_gates", "-rA", *args)


def test_without_ci_mode_skips_stay_skips_and_what_is_missing_is_deselected(suite):
    result = _run(suite)
    result.assert_outcomes(passed=1, skipped=3, xfailed=1, deselected=2)
    result.stdout.fnmatch_lines([("deselected: 1 needs_facenet (facenet-pytorch not installed*), "
                                  "1 needs_weights (real VLM weights not given*)")])
    assert "must never run here" not in result.stdout.str()


def test_ci_mode_turns_every_skip_into_a_failure(suite, monkeypatch):
    monkeypatch.setenv("FACESCAN_REQUIRE_DATA", "1")
    result = _run(suite, "--continue-on-collection-errors")
    # the import-level skip is a collection error, the fixture's skip an error at setup, the test's own a failure
    result.assert_outcomes(passed=1, failed=1, errors=2, xfailed=1, deselected=2)
    result.stdout.fnmatch_lines(["*ERROR collecting test_extra.py*",
                                 "module skipped under FACESCAN_REQUIRE_DATA=1, which forbids skipping: needs an extra"])
    out = result.stdout.str()
    assert "test skipped under FACESCAN_REQUIRE_DATA=1, which forbids skipping: real data not found" in out
    assert "forbids skipping: no server" in out
    assert "deselected: 1 needs_facenet" in out
    assert result.ret != 0


def test_ci_mode_without_collection_flags_stops_on_an_import_skip(suite, monkeypatch):
    monkeypatch.setenv("FACESCAN_REQUIRE_DATA", "1")
    result = _run(suite, "test_extra.py")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.INTERRUPTED
