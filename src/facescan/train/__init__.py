"""Reproducible building of the models facescan ships (needs ``pip install 'facescan[train]'``).

``facescan train RECIPE`` writes ONNX files and prints their sha256 and validation metrics, to be
pinned in ``facescan/models/catalog.py``. The recipes, by model family:

* :mod:`.multitask_recipe`: ``multitask``, the default attribute model (network and training in
  :mod:`.multitask`, its data in :mod:`.multidata`, augmentation in :mod:`.augment`);
* :mod:`.utkface`: ``utkface-heads``, ``utkface-finetune`` and ``utkface-stack``, on face-api's
  TinyXception (:mod:`.heads`, :mod:`.finetune`, :mod:`.stack`);
* :mod:`.converted`: ``faceapi-original``, ``fer-emotion[-tta]`` and ``mtcnn``, published weights
  converted unchanged (:mod:`.convert`, :mod:`.nets`, :mod:`.mtcnn`);
* :mod:`.report`: each recipe's report, compared with the shipped file it rebuilds.
"""
