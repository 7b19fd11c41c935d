"""Test-data generators (not part of the facescan package): synthetic video clips of real face
chips with known tracks (:mod:`synth.clips`) and composed group photos with true descriptions
(:mod:`synth.scenes`). The tests import them as ``synth`` (pytest puts ``tests/`` on the path);
the benchmarks that measure on the same data put ``tests/`` on ``sys.path`` first."""
