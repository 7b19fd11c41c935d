"""Local vision-language models through transformers: PaliGemma (and FaceScanPaliGemma),
Florence-2, LLaVA and LLaVA-NeXT.

Checkpoints are local folders or hub ids already in the local Hugging Face cache: facescan
never downloads (``local_files_only``), and a missing one raises one :class:`ModelError`
that says how to get it. A folder holding a LoRA adapter (``adapter_config.json``, as
``facescan finetune`` writes) is loaded on top of its base checkpoint. Checkpoints without
processor files (the published FaceScanPaliGemma models) take the processor of
``processor_source`` (default: their base, ``google/paligemma-3b-pt-224``).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, ModelError, require
from .backend import Answer
from .prompts import label_text

log = logging.getLogger(__name__)

# backend family -> the transformers model types it accepts
FAMILIES = {"paligemma": ("paligemma",), "florence-2": ("florence2",),
            "llava": ("llava", "llava_next", "llava_onevision")}
DEFAULT_PROCESSOR = {"paligemma": "google/paligemma-3b-pt-224"}
LLAVA_FALLBACK_PROMPT = "USER: <image>\n{question} ASSISTANT:"
_HUB_HINT = ("facescan never downloads: fetch it first (e.g. `hf download {src}`; gated models "
             "such as PaliGemma need `hf auth login` and their licence accepted on the hub), "
             "or give a local checkpoint folder")


def resolve_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    table = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
             "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}
    if dtype not in table:
        raise ConfigError(f"dtype {dtype!r}: choose auto, {', '.join(table)}")
    return table[dtype]


def _check_source(source: str) -> str:
    """The local folder of a checkpoint: a folder (must exist), or the cached snapshot of a
    hub id 'owner/name' (looked up in the local cache only: no request is ever sent)."""
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"checkpoint {source} is a file; give the checkpoint folder")
        return str(path)
    if source.startswith((".", "/", "~")) or source.count("/") != 1:
        raise ModelError(f"checkpoint folder {source} does not exist (a hub id looks like "
                         "'owner/name'); " + _HUB_HINT.format(src="OWNER/NAME"))
    from huggingface_hub import snapshot_download

    try:
        return str(snapshot_download(source, local_files_only=True))
    except Exception as exc:  # LocalEntryNotFoundError and friends
        raise ModelError(f"{source!r} is not in the local Hugging Face cache; "
                         + _HUB_HINT.format(src=source)) from exc


def _from_pretrained(loader: Any, folder: str, what: str, **kwargs: Any) -> Any:
    try:
        return loader.from_pretrained(folder, local_files_only=True, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"cannot load the {what} from {folder}: {exc}") from exc


def log_softmax_sum(logits: Any, labels: Any, shift: bool) -> list[float]:
    """Sum of log-probabilities of the ``labels`` tokens (-100: ignored) per row.

    ``shift``: decoder-only models predict token t+1 at position t.
    """
    import torch

    lp = torch.log_softmax(logits.float(), dim=-1)
    if shift:
        lp, labels = lp[:, :-1], labels[:, 1:]
    mask = labels != -100
    picked = lp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    sums = (picked * mask).sum(dim=1)
    return [float(v) if math.isfinite(float(v)) else -math.inf for v in sums]


def load_model(source: str, family: str, device: str = "auto", dtype: str = "auto",
               processor_source: str | None = None, max_new_tokens: int = 20) -> HFEngine:
    """Load a checkpoint (folder, cached hub id, or LoRA adapter folder) as an engine."""
    require("transformers", "vlm")
    from transformers import AutoModelForImageTextToText, AutoProcessor

    if family not in FAMILIES:
        raise ConfigError(f"unknown model family {family!r}; choose one of {', '.join(FAMILIES)}")
    source = _check_source(source)
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    adapter = Path(source) / "adapter_config.json"
    base = source
    if adapter.is_file():
        base = json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path") or ""
        if not base:
            raise ModelError(f"adapter {source} does not name its base model (adapter_config.json)")
        base = _check_source(base)
    model = _from_pretrained(AutoModelForImageTextToText, base, "model", dtype=torch_dtype)
    if adapter.is_file():
        require("peft", "vlm")
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, source, is_trainable=False)
    model_type = getattr(model.config, "model_type", "?")
    if model_type not in FAMILIES[family]:
        right = [f for f, types in FAMILIES.items() if model_type in types]
        raise ConfigError(f"{source} is a {model_type!r} checkpoint, not {family}"
                          + (f": use --backend {right[0]}:{source}" if right else ""))
    fallback = processor_source or DEFAULT_PROCESSOR.get(family)
    processor = None
    for candidate in dict.fromkeys([source, base, fallback]):
        if candidate is None:
            continue
        try:
            processor = _from_pretrained(AutoProcessor, _check_source(candidate), "processor")
            break
        except ModelError as exc:
            log.info("no processor at %s (%s)", candidate, exc)
    if processor is None:
        raise ModelError(f"no processor found for {source} (nor for its base, nor {fallback}); "
                         + _HUB_HINT.format(src=fallback or source))
    model.to(dev).eval()
    return HFEngine(model, processor, family, dev, name=source, max_new_tokens=max_new_tokens)


class HFEngine:
    """A loaded transformers model + processor that answers questions about face crops."""

    def __init__(self, model: Any, processor: Any, family: str, device: str, name: str = "",
                 max_new_tokens: int = 20, batch_size: int = 8) -> None:
        self.model, self.processor, self.family, self.device = model, processor, family, device
        self.name = name or family
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        self.encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))

    # -- prompts ------------------------------------------------------------------------------
    def prompt(self, question: str) -> str:
        """The text given to the processor for one question, in the family's format."""
        if self.family == "paligemma":  # the processor adds <bos> after the image and "\n"
            return self.processor.image_token + question
        if self.family == "florence-2":  # the processor adds the image tokens
            return question
        if getattr(self.processor, "chat_template", None):
            messages = [{"role": "user", "content": [{"type": "image"},
                                                     {"type": "text", "text": question}]}]
            return str(self.processor.apply_chat_template(messages, add_generation_prompt=True))
        return LLAVA_FALLBACK_PROMPT.format(question=question)

    def inputs(self, crops: list[np.ndarray], texts: list[str], **kwargs: Any) -> Any:
        from PIL import Image

        images = [Image.fromarray(c) for c in crops]
        batch = self.processor(images=images, text=texts, return_tensors="pt", padding="longest", **kwargs)
        batch = batch.to(self.device)
        if "pixel_values" in batch:
            batch["pixel_values"] = batch["pixel_values"].to(self.model.dtype)
        return batch

    # -- answering ----------------------------------------------------------------------------
    def generate(self, crops: list[np.ndarray], question: str) -> list[str]:
        """Greedy free-text answers (the prompt stripped), one per crop."""
        import torch

        text = self.prompt(question)
        out: list[str] = []
        for i in range(0, len(crops), self.batch_size):
            chunk = crops[i:i + self.batch_size]
            batch = self.inputs(chunk, [text] * len(chunk))
            with torch.inference_mode():
                ids = self.model.generate(**batch, max_new_tokens=self.max_new_tokens, do_sample=False)
            if not self.encoder_decoder:
                ids = ids[:, batch["input_ids"].shape[1]:]
            out += [t.strip() for t in self.processor.batch_decode(ids, skip_special_tokens=True)]
        return out

    def candidate_batch(self, crop: np.ndarray, question: str, answers: list[str]) -> Any:
        """Model inputs with ``labels`` (-100 outside the answer tokens + end of sequence)
        for one crop and each candidate answer: the training batch and the scoring batch."""
        import torch

        text, k = self.prompt(question), len(answers)
        tok = self.processor.tokenizer
        if self.family == "paligemma":  # the processor builds prefix/suffix masks and labels
            return self.inputs([crop] * k, [text] * k, suffix=answers)
        ids = [tok(a, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for a in answers]
        width = max(map(len, ids))
        labels = torch.full((k, width), -100, dtype=torch.long)
        for row, seq in zip(labels, ids):
            row[:len(seq)] = torch.tensor(seq)
        if self.encoder_decoder:  # Florence-2: the answer is the decoder's target
            batch = self.inputs([crop] * k, [text] * k)
            batch["labels"] = labels.to(self.device)
            return batch
        base = self.inputs([crop], [text])
        prompt_ids = base["input_ids"][0]
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        full = torch.full((k, len(prompt_ids) + width), pad, dtype=torch.long, device=self.device)
        mask = torch.zeros_like(full)
        full_labels = torch.full_like(full, -100)
        for r, seq in enumerate(ids):
            n = len(prompt_ids) + len(seq)
            full[r, :n] = torch.cat([prompt_ids, torch.tensor(seq, device=self.device)])
            mask[r, :n] = 1
            full_labels[r, len(prompt_ids):n] = torch.tensor(seq, device=self.device)
        batch = {key: value.repeat(k, *[1] * (value.dim() - 1)) for key, value in base.items()
                 if key not in ("input_ids", "attention_mask")}
        batch.update(input_ids=full, attention_mask=mask, labels=full_labels)
        return batch

    def score(self, crops: list[np.ndarray], question: str, labels: tuple[str, ...]) -> list[dict[str, float]]:
        """Log-likelihood of each label (as text, then end of sequence) per crop."""
        import torch

        texts = [label_text(x) for x in labels]
        out = []
        for crop in crops:
            batch = dict(self.candidate_batch(crop, question, texts))
            target = batch.pop("labels")
            with torch.inference_mode():
                kwargs = {"use_cache": False}
                if self.encoder_decoder:
                    kwargs["labels"] = target
                logits = self.model(**batch, **kwargs).logits
            sums = log_softmax_sum(logits, target, shift=not self.encoder_decoder)
            out.append(dict(zip(labels, sums)))
        return out

    def answer(self, crops: list[np.ndarray], question: str, attribute: str,
               labels: tuple[str, ...], closed: bool) -> list[Answer]:
        if closed:
            scores = self.score(crops, question, labels)
            return [Answer(max(s, key=s.__getitem__), s) for s in scores]
        return [Answer(t) for t in self.generate(crops, question)]
