"""Search-space files: validation messages, hardware fitting, suggestion."""

from __future__ import annotations

import optuna
import pytest
from fakes import task_facts

from autoaccel.errors import SearchSpaceError
from autoaccel.knobs import Config
from autoaccel.study import default_space_path, fit_to, load_space


def write(tmp_path, text: str):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("stage", ["train", "deploy"])
def test_default_spaces_load(stage) -> None:
    space = load_space(default_space_path(stage), stage)
    assert space.choices["batch_size"]
    assert space.choices["compile"][0] == "off"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("batch_sise: [32]", "space.yaml: batch_sise: unknown knob for the train stage; allowed"),
        ("quantization: [none]", "(it is a deploy-stage knob)"),
        ("precision: [fp32, fp64]", "precision: 'fp64' is not allowed"),
        ("batch_size: [0, 32]", "batch_size: 0 is not allowed: Input should be greater"),
        ("compile: [off, default]", 'YAML read off as false; write "off" in quotes'),
        ("batch_size: []", "give a non-empty list of choices"),
        ("batch_size: 32", "give a non-empty list of choices, got 32"),
        ("- 1\n- 2", "must map knob names to their choices"),
        ("batch_size: [32", "is not valid YAML"),
        ('batch_size: ["64"]', "batch_size: '64' is not allowed: Input should be a valid integer"),
        ("batch_size: [true]", "batch_size: True is not allowed: Input should be a valid integer"),
        ("pin_memory: [1]", "pin_memory: 1 is not allowed: Input should be a valid boolean"),
        ("deploy:\n  batch_size: [1]", "has no train: section"),
    ],
)
def test_bad_files_name_file_knob_and_rule(tmp_path, text, expected) -> None:
    with pytest.raises(SearchSpaceError) as error:
        load_space(write(tmp_path, text), "train")
    assert expected in str(error.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pruning_ratio: {low: 0, high: 0.95, step: 0.1}", "need 0 <= low <= high <= 0.9"),
        ("pruning_ratio: {low: 0, high: 0.5}", "a range needs numbers low, high and step"),
        ("pruning_ratio: {low: 0, high: 0.5, step: 0.1, log: true}", "takes only low, high"),
        ("pruning_ratio: {low: 0, high: 0.5, step: .nan}", "needs numbers low, high and step"),
        ("pruning_ratio: {low: 0, high: .inf, step: 0.1}", "needs numbers low, high and step"),
        ("pruning_ratio: {low: 0, high: 0.5, step: true}", "needs numbers low, high and step"),
        ("pruning_ratio: {low: 0, high: 0.5, step: 1e-2}", r"YAML read '1e-2' as text"),
        ("pruning_ratio: {low: 0, high: 0.9, step: 0.009}", "gives more than 100 values"),
        ("pruning_ratio: {low: 0, high: 0.9, step: 5.0e-324}", "gives more than 100 values"),
    ],
)
def test_bad_ranges(tmp_path, text, expected) -> None:
    with pytest.raises(SearchSpaceError, match=expected):
        load_space(write(tmp_path, text), "deploy")


def test_a_range_may_give_a_hundred_values(tmp_path) -> None:
    path = write(tmp_path, "pruning_ratio: {low: 0, high: 0.9, step: 0.01}")
    assert len(load_space(path, "deploy").ranges["pruning_ratio"].values()) == 91


def test_ints_are_floats_in_a_range(tmp_path) -> None:
    path = write(tmp_path, "pruning_ratio: {low: 0, high: 0.5, step: 0.25}")
    assert load_space(path, "deploy").ranges["pruning_ratio"].values() == [0.0, 0.25, 0.5]


def test_missing_file(tmp_path) -> None:
    with pytest.raises(SearchSpaceError, match="no such search-space file"):
        load_space(tmp_path / "nope.yaml", "train")


def test_a_folder_or_a_binary_file_is_no_space(tmp_path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    with pytest.raises(SearchSpaceError, match="folder.yaml is a folder"):
        load_space(tmp_path / "folder.yaml", "train")
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)))
    with pytest.raises(SearchSpaceError, match="binary.yaml is not text"):
        load_space(tmp_path / "binary.yaml", "train")


def test_one_file_may_hold_both_stages(tmp_path) -> None:
    path = write(tmp_path, "train:\n  batch_size: [8, 16]\ndeploy:\n  batch_size: [1]\n")
    assert load_space(path, "train").choices == {"batch_size": [8, 16]}
    assert load_space(path, "deploy").choices == {"batch_size": [1]}


def test_fit_drops_what_the_cpu_cannot_run_and_keeps_the_baseline(cpu_profile) -> None:
    facts = task_facts(baseline=Config(batch_size=48), epochs=1.0, train_samples=8192)
    space = fit_to(
        load_space(default_space_path("train"), "train"), cpu_profile, facts, facts.baseline
    )
    assert space.choices["precision"] == ["fp32", "bf16"]
    assert space.choices["pin_memory"] == [False]
    assert space.choices["num_workers"] == [0, 1, 2]
    assert space.choices["channels_last"] == [False]
    assert 48 in space.choices["batch_size"]  # the baseline's own batch size
    assert 1024 not in space.choices["batch_size"]  # 8 steps: too few to measure
    assert "needs a CUDA GPU" in space.dropped["precision"]["fp16"]
    assert "2-D convolutions" in space.dropped["channels_last"]["True"]


def test_suggest_skips_worker_knobs_without_workers(tmp_path) -> None:
    path = write(
        tmp_path, "num_workers: [0, 2]\npersistent_workers: [true]\nprefetch_factor: [4]\n"
    )
    space = load_space(path, "train")
    base = Config(batch_size=8)
    none = space.suggest(optuna.trial.FixedTrial({"num_workers": 0}), base)
    assert (none.persistent_workers, none.prefetch_factor) == (False, None)
    some = space.suggest(
        optuna.trial.FixedTrial(
            {"num_workers": 2, "persistent_workers": True, "prefetch_factor": 4}
        ),
        base,
    )
    assert (some.num_workers, some.persistent_workers, some.prefetch_factor) == (2, True, 4)
    assert len(space.grid(base)) == 2  # workers 0, and workers 2 with both worker knobs


def test_grid_and_ranges(tmp_path) -> None:
    path = write(tmp_path, "batch_size: [1, 8]\npruning_ratio: {low: 0, high: 0.2, step: 0.1}\n")
    space = load_space(path, "deploy")
    grid = space.grid(Config())
    assert len(grid) == 6
    assert sorted({c.pruning_ratio for c in grid}) == [0.0, 0.1, 0.2]


def test_a_space_holds_at_most_100000_configurations(tmp_path) -> None:
    sizes = f"batch_size: {list(range(1, 1001))}\n"
    load_space(write(tmp_path, f"{sizes}num_workers: {list(range(100))}"), "train")
    with pytest.raises(SearchSpaceError, match="holds 101000 configurations; at most 100000"):
        load_space(write(tmp_path, f"{sizes}num_workers: {list(range(101))}"), "train")


def test_distill_is_searched_only_with_pruning(tmp_path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text('distill: ["off", "on"]\npruning_ratio: {low: 0.0, high: 0.5, step: 0.5}\n')
    space = load_space(path, "deploy")
    base = Config(batch_size=64)
    pruned = space.suggest(optuna.trial.FixedTrial({"pruning_ratio": 0.5, "distill": "on"}), base)
    assert (pruned.pruning_ratio, pruned.distill) == (0.5, "on")
    # Unpruned, distill is not asked for: FixedTrial would fail on a parameter it lacks.
    plain = space.suggest(optuna.trial.FixedTrial({"pruning_ratio": 0.0}), base)
    assert plain.distill == "off"
    assert len(space.grid(base)) == 3
