"""Hostile run files, ``--set`` values and command-line numbers: each is refused with one of
minigrad's own errors, in one line naming the field (or option) and the limit, quickly, and
without building anything large.

Before the limits these ended in OverflowError, "Maximum allowed dimension exceeded",
MemoryError, "Seed must be between 0 and 2**32 - 1", RecursionError or ENAMETOOLONG
tracebacks, or in minutes of parsing. The generated cases (hypothesis) are at the end.
"""

import resource
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TINY_LM, TINY_QA, invoke, one_line, write_config
from minigrad.errors import ConfigError, MinigradError
from minigrad.tool.config import load_config, limits
from minigrad.tool.config.overrides import parse_settings
from minigrad.tool.config.errors import MAX_PROBLEMS_SHOWN
from minigrad.tool.config.task_option import check_task_option
from minigrad.tool.config.yaml_limits import MAX_DEPTH, MAX_RUN_FILE_BYTES, MAX_VALUES
from minigrad.tool.suite import plan

HUGE = [10**30, 2**32, 2**63]

MEMN2N = {
    "name": "tinymem",
    "data": {"task": 1, "mode": "memory", "batch_size": 25, "train_size": 100, "test_size": 50},
    "model": {"type": "memn2n", "embedding_dim": 8, "hops": 2, "memory_size": 10,
              "linear_start": {"epochs": 1, "lr": 0.01}},
    "optimizer": {"name": "sgd", "lr": 0.01, "schedule": {"every": 2}},
    "train": {"epochs": 3, "seed": 0},
}

QRN = {
    "name": "tinyqrn",
    "data": {"task": 1, "mode": "memory", "batch_size": 25, "train_size": 100, "test_size": 50},
    "model": {"type": "qrn", "embedding_dim": 8, "layers": 2, "memory_size": 10},
    "optimizer": {"name": "adagrad", "lr": 0.1},
    "train": {"epochs": 3, "seed": 0},
}

SEQUENTIAL = {
    "name": "tinyseq",
    "data": {"task": 1, "mode": "lm", "batch_size": 20, "train_size": 100, "test_size": 50, "max_len": 10},
    "model": {"type": "sequential", "layers": [{"type": "Embedding", "dim": 8}, {"type": "Linear", "n_outputs": 8},
                                                {"type": "Tanh"}, {"type": "Linear", "n_inputs": 8, "n_outputs": "vocab"}]},
    "optimizer": {"name": "sgd", "lr": 0.1},
    "train": {"epochs": 2, "seed": 0},
}

# Each numeric field of each kind of run, and the smallest and largest value it may take.
W, E = (1, limits.MAX_WIDTH), (1, limits.MAX_EPOCHS)
FIELDS = {
    "lm": (TINY_LM, {"model.embedding_dim": W, "model.hidden_size": W, "model.layers": (1, limits.MAX_RECURRENT_LAYERS),
                     "data.batch_size": (1, limits.MAX_BATCH_SIZE), "data.train_size": (1, limits.MAX_EXAMPLES),
                     "data.test_size": (1, limits.MAX_EXAMPLES), "data.max_len": (1, limits.MAX_LENGTH),
                     "loss.ignore_index": (-limits.MAX_INDEX, limits.MAX_INDEX), "train.epochs": E,
                     "train.seed": (0, limits.MAX_SEED), "train.eval_every": E, "train.test_every": E,
                     "train.checkpoint_every": E, "optimizer.schedule.every": E}),
    "qa": (TINY_QA, {"data.max_story_len": (1, limits.MAX_LENGTH), "data.max_question_len": (1, limits.MAX_LENGTH)}),
    "memory": (MEMN2N, {"model.embedding_dim": W, "model.hops": (1, limits.MAX_HOPS),
                        "model.memory_size": (1, limits.MAX_MEMORY_SIZE), "model.linear_start.epochs": E}),
    "qrn": (QRN, {"model.embedding_dim": W, "model.layers": (1, limits.MAX_QRN_LAYERS),
                  "model.memory_size": (1, limits.MAX_MEMORY_SIZE)}),
    "sequential": (SEQUENTIAL, {"model.layers[0].dim": W, "model.layers[1].n_outputs": W,
                                "model.layers[3].n_inputs": W}),
}
CASES = [(kind, field, bounds) for kind, (_, fields) in FIELDS.items() for field, bounds in fields.items()]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def run_files(folder):
    return {kind: write_config(folder, base) for kind, (base, _) in FIELDS.items()}


@pytest.fixture(scope="module", autouse=True)
def memory_cap():
    """A runaway allocation fails the test with MemoryError instead of exhausting the machine:
    this process may take at most 3 GiB more address space than it has now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    cap = size + (3 << 30)
    if hard == resource.RLIM_INFINITY or cap < hard:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def refused(action):
    """The ConfigError ``action`` raises; its message must be one line of reasonable length."""
    with pytest.raises(ConfigError) as caught:
        action()
    message = caught.value.message
    assert "\n" not in message and len(message) < 400, message
    return message


# ---- sizes and numbers ----------------------------------------------------------------------


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("kind, field, bounds", CASES)
def test_a_huge_number_is_refused_naming_the_field_and_the_limit(run_files, kind, field, bounds, value):
    message = refused(lambda: load_config(run_files[kind], settings={field: value}))
    assert f"{field}: {value} is over the limit of {bounds[1]:,} (set by --set)" in message


@pytest.mark.parametrize("kind, field, bounds", CASES)
def test_each_limit_itself_is_allowed(run_files, kind, field, bounds):
    base = FIELDS[kind][0]
    settings = {field: bounds[1]}
    if field in ("model.linear_start.epochs", "train.epochs"):
        settings.update({"train.epochs": limits.MAX_EPOCHS, "model.linear_start.epochs": limits.MAX_EPOCHS - 1}
                        if kind == "memory" else {})
    config = load_config(run_files[kind], settings=settings)
    assert config.name == base["name"]


def test_a_number_of_thousands_of_digits_is_shown_by_its_size(run_files):
    message = refused(lambda: load_config(run_files["lm"], settings={"model.hidden_size": 16**4000}))
    assert "model.hidden_size: a number of about 4,817 digits is over the limit of 8,192" in message


@pytest.mark.parametrize("items", [257, 5000])
def test_a_sequential_model_has_at_most_256_layers(run_files, items):
    layers = [{"type": "Embedding", "dim": 8}] + [{"type": "Tanh"}] * (items - 1)
    message = refused(lambda: load_config(run_files["sequential"], settings={"model.layers": layers}))
    assert f"model.layers: {items:,} items is over the limit of 256 items" in message


@pytest.mark.parametrize("seed", [-1, 2**32, 10**30])
def test_a_seed_numpy_cannot_take_is_refused(run_files, seed):
    message = refused(lambda: load_config(run_files["lm"], settings={"train.seed": seed}))
    assert "train.seed: " in message and str(seed) in message


@pytest.mark.parametrize("args, expected", [
    (["--seed", "-1"], "train.seed: should be greater than or equal to 0, got -1 (set by --seed)"),
    (["--seed", str(2**32)], "train.seed: 4294967296 is over the limit of 4,294,967,295 (set by --seed)"),
    (["--epochs", str(10**30)], f"train.epochs: {10**30} is over the limit of 1,000,000 (set by --epochs)"),
    (["--set", "train.seed=-1"], "train.seed: should be greater than or equal to 0, got -1 (set by --set)"),
    (["--set", "model.layers=4294967296"], "model.layers: 4294967296 is over the limit of 64"),
    (["--set", "name=" + "a" * 300], "name: 300 characters is over the limit of 100: it names a folder"),
    (["--set", "train.out=" + "x" * 300], "cannot create the run folder"),
    (["--task", "²"], "--task '²': unknown task;"),
    (["--task", "9" * 5000], "--task '99999"),
    (["--task", "qa²"], "--task 'qa²': unknown task;"),
])
def test_train_refuses_out_of_range_options_in_one_line(make_config, args, expected):
    result = invoke("train", make_config(), *args)
    assert result.exit_code == 2 and expected in one_line(result.output), result.output
    assert len(result.output) < 600


def test_graph_refuses_a_negative_seed(make_config):
    result = invoke("graph", make_config(), "--set", "train.seed=-1")
    assert result.exit_code == 2 and "train.seed: should be greater than or equal to 0" in one_line(result.output)


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_gradcheck_refuses_a_seed_numpy_cannot_take(seed):
    result = invoke("gradcheck", "--seed", seed)
    assert result.exit_code == 2 and f"--seed {seed}: a seed is a whole number from 0 to 4294967295" in result.output


@pytest.mark.parametrize("setting", ["train.seed=-1", "model.hidden_size=1000000000000000000000000000000"])
def test_a_saved_run_is_checked_again_when_resumed_or_asked(lm_run_copy, setting):
    key, value = setting.split("=")
    config = yaml.safe_load((lm_run_copy / "config.yaml").read_text())
    section, field = key.split(".")
    config[section][field] = int(value)
    (lm_run_copy / "config.yaml").write_text(yaml.safe_dump(config))
    for result in (invoke("train", "--resume", lm_run_copy, "--epochs", "2"),
                   invoke("predict", "--run", lm_run_copy, "--context", "mary")):
        assert result.exit_code == 2 and key in one_line(result.output), result.output


@pytest.mark.parametrize("text", ["²", "1-²", "²-3", "qa²", "9" * 5000, "1-" + "9" * 5000, "٣"])
def test_suite_tasks_take_ascii_digits_only(text):
    message = refused(lambda: plan.parse_tasks(text))
    assert message.startswith("--tasks ")


@pytest.mark.parametrize("args, expected", [
    (["--seeds", str(10**30)], "--seeds 1000000000000000000000000000000: a suite trains 1 to 1000 seeds"),
    (["--seeds", "0"], "--seeds 0: a suite trains 1 to 1000 seeds"),
    (["--jobs", str(10**30)], "--jobs 1000000000000000000000000000000: runs at once must be 1 to 1024"),
    (["--jobs", "0"], "--jobs 0: runs at once must be 1 to 1024"),
    (["--tasks", "1-²"], "--tasks '1-²': '1-²' is not a task or a range of tasks."),
])
def test_suite_refuses_out_of_range_options(tmp_path, args, expected):
    result = invoke("suite", "babi_memn2n", "--out", tmp_path / "s", *args)
    assert result.exit_code == 2 and expected in one_line(result.output), result.output
    assert not (tmp_path / "s").exists()


def test_a_task_path_too_long_for_the_system_is_refused(folder, run_files):
    task = str(folder / ("x" * 300 + "_train.txt"))
    message = refused(lambda: load_config(run_files["lm"], settings={"data.task": task}))
    assert f"data.task: cannot read the task file {task[:20]!r}"[:-1] in message and "File name too long" in message
    message = refused(lambda: load_config(run_files["lm"], settings={"data.task": "d/" + "x" * 900 + "_train.txt"}))
    assert "data.task: data file not found: d/xxx" in message


# ---- YAML ----------------------------------------------------------------------------------


def deep(levels, opener="[", closer="]"):
    return opener * levels + closer * levels


def alias_bomb(levels=9, fan_out=10):
    """The "billion laughs": each level lists the one before ``fan_out`` times."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fan_out) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan_out) + "]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nname: bomb\ndata: {{task: *l{levels - 1}}}\n"


@pytest.mark.parametrize("text, expected", [
    (f"name: deep\ndata: {{task: {deep(1000)}}}\n", f"the file nests values more than {MAX_DEPTH} deep"),
    ("name: deep\nmodel: " + deep(40, "{a: ", "}") + "\n", f"the file nests values more than {MAX_DEPTH} deep"),
    (alias_bomb(), f"the file holds more than {MAX_VALUES:,} values once its aliases are expanded"),
    ("name: loop\ndata: &d {task: [1, *d]}\n", "the file has an alias (*d) inside the value it names"),
    ("name: big\nextra: [" + ", ".join(["1"] * 200_000) + "]\n", f"more than {MAX_VALUES:,} values"),
    ("name: date\ntrain: {seed: 2024-13-45}\n", "not valid YAML: month must be in 1..12"),
    ("name: digits\ntrain: {seed: " + "9" * 5000 + "}\n", "not valid YAML: Exceeds the limit (4300 digits)"),
])
def test_hostile_yaml_is_refused_before_it_is_built(tmp_path, text, expected):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    started = time.perf_counter()
    message = refused(lambda: load_config(path))
    assert message.startswith(f"{path}: ") and expected in message
    assert time.perf_counter() - started < 5


def test_a_run_file_over_one_mib_is_refused_unread(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: huge\nnote: " + "x" * (5 * MAX_RUN_FILE_BYTES) + "\n")
    started = time.perf_counter()
    assert "the file is over 1 MiB, too large for a run file" in refused(lambda: load_config(path))
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("value, expected", [
    (deep(1000), f"the value nests values more than {MAX_DEPTH} deep"),
    ("&a [" + ", ".join(["*a"] * 3) + "]", "the value has an alias (*a) inside the value it names"),
    ("[" + ", ".join(["x"] * 100_001) + "]", f"more than {MAX_VALUES:,} values"),
    ("2024-02-31", "the value is not valid YAML: day is out of range for month"),
])
def test_hostile_set_values_are_refused(value, expected):
    message = refused(lambda: parse_settings([f"data.task={value}"]))
    assert message.startswith("--set 'data.task=") and expected in message


def test_the_cli_refuses_an_alias_bomb_without_printing_it(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    result = invoke("train", path)
    assert result.exit_code == 2 and "once its aliases are expanded" in result.output and len(result.output) < 600


# ---- generated cases -----------------------------------------------------------------------

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
INTEGERS = st.one_of(st.integers(), st.integers(-2**70, 2**70), st.integers(10**20, 16**3000),
                     st.sampled_from([-1, 0, 1, 2**31, 2**32, 2**63, 10**30]))


def outcome(action):
    """Run ``action``; only minigrad's own errors may come out, a short line a problem, ten problems at most."""
    try:
        return action()
    except MinigradError as exc:
        lines = exc.message.splitlines()
        assert lines and len(lines) <= MAX_PROBLEMS_SHOWN + 1, exc.message
        assert all(len(line) < 400 for line in lines), exc.message
        return exc


@settings(PROPERTY, max_examples=600)
@given(case=st.sampled_from(CASES), value=INTEGERS)
def test_any_integer_in_any_numeric_field_is_taken_or_refused(run_files, case, value):
    kind, field, (low, high) = case
    result = outcome(lambda: load_config(run_files[kind], settings={field: value}))
    if value > high:
        assert isinstance(result, ConfigError) and f"{field}: " in result.message
        assert f"is over the limit of {high:,}" in result.message
    elif value < low:
        assert isinstance(result, ConfigError) and f"{field}: " in result.message


@settings(PROPERTY, max_examples=150)
@given(case=st.sampled_from(CASES), value=st.one_of(st.integers(-2**70, -1), st.integers(10**6, 2**70)),
       hexadecimal=st.booleans())
def test_any_out_of_range_set_is_one_message_from_train(run_files, case, value, hexadecimal):
    kind, field, (low, high) = case
    if low <= value <= high:
        return
    text = (f"-0x{-value:x}" if value < 0 else f"0x{value:x}") if hexadecimal else str(value)
    result = invoke("train", run_files[kind], "--set", f"{field}={text}")
    assert result.exit_code == 2 and field in one_line(result.output), result.output


@st.composite
def nested_yaml(draw):
    """Lists and mappings nested up to 100 deep, some named by an anchor and repeated by aliases."""
    depth = draw(st.integers(1, 100))
    text = "x"
    for level in range(depth):
        text = draw(st.sampled_from([f"[{text}]", f"{{k: {text}}}", f"[1, {text}]"]))
    copies, fan_out = draw(st.integers(0, 8)), draw(st.integers(2, 12))
    lines = [f"a0: &a0 {text}"] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan_out) + "]"
                                   for i in range(1, copies + 1)]
    return "\n".join(lines) + f"\nname: gen\ndata: {{task: *a{copies}}}\n"


@settings(PROPERTY, max_examples=200)
@given(text=nested_yaml())
def test_any_nesting_and_aliases_are_refused_quickly_or_read(folder, text):
    path = folder / "nested.yaml"
    path.write_text(text)
    started = time.perf_counter()
    outcome(lambda: load_config(path))
    assert time.perf_counter() - started < 5


@settings(PROPERTY, max_examples=300)
@given(name=st.one_of(st.text(max_size=400), st.text("abc-_.9", min_size=90, max_size=200)))
def test_any_name_names_a_folder_or_is_refused(run_files, name):
    result = outcome(lambda: load_config(run_files["lm"], settings={"name": name}))
    if not isinstance(result, ConfigError):
        assert 1 <= len(result.name) <= limits.MAX_NAME_LENGTH and "/" not in result.name


@settings(PROPERTY, max_examples=400)
@given(text=st.one_of(st.text(max_size=30), st.from_regex(r"(qa)?[0-9²٣]{1,6}(-(qa)?[0-9²٣]{1,6})?", fullmatch=True)))
def test_any_tasks_option_is_a_list_of_tasks_or_refused(text):
    result = outcome(lambda: plan.parse_tasks(text))
    if not isinstance(result, ConfigError):
        assert result and all(1 <= task <= 20 for task in result)
    outcome(lambda: check_task_option(text))
    outcome(lambda: check_task_option(text, command="evaluate"))


@settings(PROPERTY, max_examples=400)
@given(value=st.text(max_size=60))
def test_any_set_value_is_read_or_refused(value):
    outcome(lambda: parse_settings([f"data.task={value}", f"x[{value}]=1"]))
