"""Configurations: validation with messages that name the knob and what is allowed."""

from __future__ import annotations

import json

import pytest

from autoaccel.errors import ConfigError
from autoaccel.knobs import Config, check_values, config_from_dict, read_json_argument


def test_defaults_are_plain_pytorch() -> None:
    config = Config()
    assert (config.precision, config.num_workers, config.compile) == ("fp32", 0, "off")
    assert config.pruning_ratio == 0.0 and config.quantization == "none"


def test_unset_knobs_come_from_the_base() -> None:
    base = Config(batch_size=64, num_workers=2)
    config = config_from_dict({"precision": "bf16"}, source="test", base=base)
    assert (config.batch_size, config.num_workers, config.precision) == (64, 2, "bf16")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"batch_sise": 64}, "batch_sise: unknown knob; known knobs: batch_size"),
        ({"precision": "fp64"}, "precision: Input should be 'fp32', 'tf32', 'bf16' or 'fp16'"),
        ({"batch_size": 0}, "batch_size: Input should be greater than or equal to 1"),
        ({"batch_size": "large"}, "got 'large'"),
        ({"pruning_ratio": 0.95}, "pruning_ratio: Input should be less than or equal to 0.9"),
        ({"persistent_workers": True}, "persistent_workers needs num_workers > 0"),
        ({"prefetch_factor": 4}, "prefetch_factor needs num_workers > 0"),
        ({"compile": "fast"}, "compile: Input should be 'off', 'default'"),
        ({"batch_size": True}, "batch_size: Input should be a valid integer (got True)"),
        ({"batch_size": "64"}, "batch_size: Input should be a valid integer (got '64')"),
        ({"batch_size": 64.0}, "batch_size: Input should be a valid integer (got 64.0)"),
        ({"channels_last": 1}, "channels_last: Input should be a valid boolean (got 1)"),
        ({"prefetch_factor": True}, "prefetch_factor: Input should be a valid integer"),
    ],
)
def test_bad_values_name_the_knob(data: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        config_from_dict(data, source="--config")
    assert str(error.value).startswith("--config: ")
    assert expected in str(error.value)


def test_a_float_knob_takes_an_int() -> None:
    assert config_from_dict({"pruning_ratio": 0}, source="--config").pruning_ratio == 0.0


def test_values_are_checked_without_a_base() -> None:
    check_values({"batch_size": 8, "persistent_workers": True}, source="--config")
    with pytest.raises(ConfigError, match="--config: batch_sise: unknown knob; .*compile: "):
        check_values({"batch_sise": 8, "compile": "fast"}, source="--config")


def test_json_argument_inline_and_file(tmp_path) -> None:
    assert read_json_argument('{"batch_size": 8}') == ({"batch_size": 8}, "--config")
    path = tmp_path / "rec.json"
    path.write_text(json.dumps({"precision": "bf16"}))
    assert read_json_argument(str(path)) == ({"precision": "bf16"}, str(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("missing.json", "is neither a JSON object nor an existing file"),
        ("{batch_size: 8}", "is not valid JSON"),
        ("[1, 2]", "is neither a JSON object nor an existing file"),
    ],
)
def test_bad_json_arguments(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        read_json_argument(text)


def test_a_json_list_in_a_file_is_refused(tmp_path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must hold a JSON object"):
        read_json_argument(str(path))


def test_for_stage_lists_only_that_stages_knobs() -> None:
    config = Config(batch_size=8, quantization="int8_dynamic_torchao")
    assert "quantization" not in config.for_stage("train")
    assert config.for_stage("deploy")["quantization"] == "int8_dynamic_torchao"
    assert "num_workers" not in config.for_stage("deploy")


def test_a_folder_a_binary_file_or_deep_json_is_no_configuration(tmp_path) -> None:
    with pytest.raises(ConfigError, match="is a folder; pass a .json file"):
        read_json_argument(str(tmp_path))
    (tmp_path / "binary.json").write_bytes(bytes(range(256)))
    with pytest.raises(ConfigError, match="binary.json is not text"):
        read_json_argument(str(tmp_path / "binary.json"))
    (tmp_path / "deep.json").write_text("[" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        read_json_argument(str(tmp_path / "deep.json"))


def test_the_learning_rate_rule_in_words() -> None:
    from autoaccel.knobs import batch_size

    assert batch_size.lr_rule("sqrt", 64, [64]) is None  # nothing else is tried
    assert batch_size.lr_rule("none", 64, [32, 64, 256]) is None
    assert batch_size.lr_rule(None, 64, [32, 64, 256]) is None  # a study stored before
    text = batch_size.lr_rule("sqrt", 64, [32, 64, 256])
    assert text is not None and "batch_size=256 trains at 2x yours" in text
    text = batch_size.lr_rule("linear", 64, [32, 64, 256])
    assert text is not None and "batch_size=256 trains at 4x yours" in text
