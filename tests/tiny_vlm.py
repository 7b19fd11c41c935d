"""Tiny random-weight PaliGemma, Florence-2 and LLaVA checkpoints, built from configs and saved
with ``save_pretrained``, so tests load them through the same code path as real checkpoints
(a few hundred kB each; random weights answer garbage, so tests never assert on the text)."""

from __future__ import annotations

import string
from pathlib import Path

CHARS = sorted(set(string.ascii_letters + string.digits + "-+_?.,:'"))


def _spm_vocab(specials: list[str]) -> dict[str, int]:
    """Special tokens, the 256 byte-fallback pieces, then single characters (\u2581 = space)."""
    vocab = {tok: i for i, tok in enumerate(specials)}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for ch in CHARS + ["\u2581"]:
        vocab.setdefault(ch, len(vocab))
    return vocab


def build_paligemma(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        GemmaTokenizer,
        PaliGemmaConfig,
        PaliGemmaForConditionalGeneration,
        PaliGemmaProcessor,
        SiglipImageProcessorPil,
    )

    tok = GemmaTokenizer(vocab=_spm_vocab(["<pad>", "<eos>", "<bos>", "<unk>"]), merges=[],
                         pad_token="<pad>", eos_token="<eos>", bos_token="<bos>", unk_token="<unk>")
    images = SiglipImageProcessorPil(size={"height": 32, "width": 32})
    images.image_seq_length = 16  # (32 / 8) ** 2 patches
    processor = PaliGemmaProcessor(image_processor=images, tokenizer=tok)
    vocab = len(processor.tokenizer)
    config = PaliGemmaConfig(
        vision_config={"model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 64,
                           "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 32, "patch_size": 8,
                           "vision_use_head": False},
        text_config={"model_type": "gemma", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                         "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32, "vocab_size": vocab},
        projection_dim=64, image_token_id=processor.image_token_id, vocab_size=vocab)
    torch.manual_seed(seed)
    PaliGemmaForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_florence2(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        BartTokenizer,
        CLIPImageProcessorPil,
        Florence2Config,
        Florence2ForConditionalGeneration,
        Florence2Processor,
    )
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for ch in bytes_to_unicode().values():
        vocab.setdefault(ch, len(vocab))
    vocab["<image>"] = len(vocab)
    tok = BartTokenizer(vocab=vocab, merges=[], extra_special_tokens={"image_token": "<image>"})
    images = CLIPImageProcessorPil(size={"height": 64, "width": 64}, do_center_crop=False)
    images.image_seq_length = 5  # (64 / 32) ** 2 spatial tokens + 1 temporal
    processor = Florence2Processor(image_processor=images, tokenizer=tok,
                                   post_processor_config={"pure_text": {}})
    config = Florence2Config(
        vision_config={"model_type": "florence_vision", "depths": [1, 1, 1, 1], "embed_dim": [16, 16, 32, 32],
                           "num_heads": [1, 1, 2, 2], "num_groups": [1, 1, 2, 2], "window_size": 2,
                           "projection_dim": 32, "drop_path_rate": 0.0},
        text_config={"model_type": "bart", "vocab_size": len(tok), "d_model": 32, "encoder_layers": 1,
                         "decoder_layers": 1, "encoder_attention_heads": 2, "decoder_attention_heads": 2,
                         "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "max_position_embeddings": 128,
                         "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 2,
                         "forced_eos_token_id": 2},
        image_token_id=tok.image_token_id)
    torch.manual_seed(seed)
    Florence2ForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


LLAVA_TEMPLATE = ("{% for m in messages %}{{ m['role'].upper() }}: {% for c in m['content'] %}"
                  "{% if c['type'] == 'image' %}<image>\n{% else %}{{ c['text'] }}{% endif %}"
                  "{% endfor %} {% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}")


def build_llava(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        AutoModelForImageTextToText,
        CLIPImageProcessorPil,
        LlamaTokenizer,
        LlavaConfig,
        LlavaProcessor,
    )

    vocab = _spm_vocab(["<unk>", "<s>", "</s>", "<pad>"])
    vocab["<image>"] = len(vocab)
    tok = LlamaTokenizer(vocab=vocab, merges=[], pad_token="<pad>",
                         extra_special_tokens={"image_token": "<image>"})
    images = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = LlavaProcessor(image_processor=images, tokenizer=tok, patch_size=8,
                               vision_feature_select_strategy="default", chat_template=LLAVA_TEMPLATE,
                               num_additional_image_tokens=1)  # CLIP's CLS token
    config = LlavaConfig(
        vision_config={"model_type": "clip_vision_model", "hidden_size": 32, "intermediate_size": 64,
                           "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 32, "patch_size": 8,
                           "projection_dim": 32},
        text_config={"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                         "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": len(tok), "pad_token_id": 3},
        image_token_id=vocab["<image>"], vision_feature_select_strategy="default", vision_feature_layer=-1)
    torch.manual_seed(seed)
    AutoModelForImageTextToText.from_config(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
