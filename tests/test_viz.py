"""Drawing recorded graphs: viz.graph's DOT text, grouping of repeats, and ``minigrad graph``."""

import re
import shutil

import numpy as np
import pytest

from conftest import invoke, one_line
from minigrad import Tensor, viz
from minigrad.tool.views import graph as graph_run
from minigrad.nn import Linear
from minigrad.tool.config.bundled import find_config
from minigrad.tool.config.overrides import parse_settings
from minigrad.viz import quote

pydot = pytest.importorskip("pydot")


def parse(dot_text):
    (parsed,) = pydot.graph_from_dot_data(dot_text)
    return parsed


def labels(parsed):
    """{node name: its label, unquoted and with DOT's \\n as a line break}."""
    found = {}
    for node in parsed.get_nodes():
        label = node.get("label")
        if label is not None:
            found[node.get_name()] = label.strip('"').replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
    return found


def test_repeats_finds_the_longest_back_to_back_run():
    assert viz.repeats("xabababy") == [(1, 2, 3)]
    assert viz.repeats("abcd") == []
    # the three-times "ab" wins over the twice "bb" it would overlap
    assert viz.repeats(list("ababab")) == [(0, 2, 3)]


def test_record_gradients_gives_the_norm_that_reached_every_op():
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    y = x * 3.0
    loss = y.sum()
    norms = viz.record_gradients(loss)
    assert norms[id(loss._ctx)] == pytest.approx(1.0)
    assert norms[id(y._ctx)] == pytest.approx(np.sqrt(6))  # d loss / d y is all ones
    assert np.allclose(x.grad.data, 3.0)
    assert "backward" not in vars(y._ctx)  # the wrapping is undone


def test_graph_of_a_small_model_parses_and_names_its_parameters():
    layer = Linear(3, 2)
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    out = layer(x).tanh().sum()
    parsed = parse(viz.graph(out, layer))
    found = labels(parsed)
    titles = sorted(label.split("\n")[0] for label in found.values())
    assert titles == ["Linear", "Sum", "Tanh", "bias", "constant", "weight"]
    assert len(parsed.get_edges()) == 5  # x, weight, bias -> Linear -> Tanh -> Sum
    assert not any("grad" in label for label in found.values())  # no backward yet

    out.backward(retain_graph=True)
    after = labels(parse(viz.graph(out, layer)))
    weight = next(label for label in after.values() if label.startswith("weight"))
    assert f"‖grad‖ {np.linalg.norm(layer.weight.grad.data):.3g}" in weight


def test_dot_labels_are_escaped():
    text = 'a "quoted" name\\with a backslash'
    assert quote(text) == '"a \\"quoted\\" name\\\\with a backslash"'
    w = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    parsed = parse(viz.graph((w * 2.0).sum(), {id(w): text}))
    assert any(label.startswith(text + "\n") for label in labels(parsed).values())


def test_question_answerer_dot_has_its_ops_and_parameters(tmp_path):
    result = invoke("graph", "configs/babi_lstm_qa.yaml", "--set", "data.train_size=64", "--format", "dot")
    assert result.exit_code == 0, result.output
    parsed = parse(result.output)
    found = labels(parsed)
    titles = [label.split("\n")[0] for label in found.values()]
    for op in ("CrossEntropy", "Linear", "Concat", "GetItem"):
        assert op in titles
    assert titles.count("LSTMLayer") == 2  # story and question, one op each
    assert "IndexSelect" not in titles  # each LSTM picks its rows of the projected table itself
    parameters = {n.get_name() for n in parsed.get_nodes() if n.get("class") == '"parameter"'}
    assert sorted(found[n].split("\n")[0] for n in parameters) == sorted([
        "embedding.weight", "story_cells.0.w_gates.weight", "story_cells.0.w_gates.bias",
        "question_cells.0.w_gates.weight", "question_cells.0.w_gates.bias", "output.weight", "output.bias"])
    steps = sorted(int(m) for label in found.values() for m in re.findall(r"(\d+) steps", label))
    assert len(steps) == 2 and steps[0] < steps[1]  # the question is shorter than the story
    names = set(found)
    for edge in parsed.get_edges():
        assert edge.get_source() in names and edge.get_destination() in names


def test_rnn_tree_shows_loss_sequence_op_parameters_and_real_gradient_norms():
    result = invoke("graph", "configs/babi_rnn.yaml")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "CrossEntropy" in out.splitlines()[1]  # the root, right under the heading
    rnn = next(line for line in out.splitlines() if "RNNLayer" in line)
    assert re.search(r"\d+ steps", rnn) and "‖grad‖" in rnn
    for name in ("embedding.weight", "cells.0.w_ih.weight", "cells.0.w_hh.weight", "output.weight", "output.bias"):
        assert name in out

    # the norm printed for output.weight is the gradient one training step gives it
    session = graph_run.from_config("configs/babi_rnn.yaml")
    graph_run.training_step(session).backward()
    expected = np.linalg.norm(session.model.output.weight.grad.data)
    line = next(line for line in out.splitlines() if "output.weight" in line)
    assert f"‖grad‖ {expected:.3g}" in line


def test_memory_network_hops_are_grouped():
    session = graph_run.from_config("configs/babi_memn2n.yaml", parse_settings(["data.train_size=64"]))
    graph = graph_run.traced_graph(session)
    repeated = {node.label: node.repeat for node in graph.nodes.values() if node.kind == "op" and node.repeat > 1}
    assert repeated.get("MatMul") == 3  # the hops: each reads its memories once
    assert repeated.get("GetItem") == 4  # the four memory tables of adjacent tying, cut from one shared bag
    ungrouped = graph_run.traced_graph(graph_run.from_config("configs/babi_memn2n.yaml",
                                                             parse_settings(["data.train_size=64"])), group=False)
    # every repeat after the first is drawn as no node of its own: 17 fewer nodes, two hops' worth and the tables
    assert len(ungrouped.nodes) == len(graph.nodes) + sum(node.repeat - 1 for node in graph.nodes.values()) == 47
    hop_adds = [n for n in graph.nodes.values() if n.label == "Add" and n.repeat == 3]
    assert len(hop_adds) == 1 and hop_adds[0].loops  # u + o reads the previous hop's u
    assert len(hop_adds[0].grads) == 3


def test_image_without_graphviz_writes_the_dot_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    target = tmp_path / "g.svg"
    result = invoke("graph", "configs/babi_rnn.yaml", "--format", "svg", "-o", target)
    assert result.exit_code == 1
    assert "apt-get install graphviz" in result.output
    assert not target.exists() and (tmp_path / "g.dot").read_text().startswith("digraph")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_svg_is_drawn_by_graphviz(tmp_path):
    target = tmp_path / "g.svg"
    result = invoke("graph", "configs/babi_rnn.yaml", "--format", "svg", "-o", target)
    assert result.exit_code == 0, result.output
    assert "<svg" in target.read_text() and "RNNLayer" in target.read_text()


def test_graph_from_a_run_folder(lm_run):
    result = invoke("graph", "--run", lm_run)
    assert result.exit_code == 0, result.output
    assert "RNNLayer" in result.output and "cells.0.w_hh.weight" in result.output


@pytest.mark.parametrize("args, message", [
    ((), "give a run file or --run RUN. e.g. minigrad graph babi_rnn, or minigrad graph --run runs/latest"),
    (("babi_rnn", "--run", "runs/babi_rnn"),
     "both a run file (babi_rnn) and --run runs/babi_rnn were given; graph draws one model. Pick one: "
     "minigrad graph babi_rnn (a new model from the run file), or minigrad graph --run runs/babi_rnn"),
    (("--run", "runs/x", "--set", "optimizer.lr=1"), "--set changes a run file, and --run runs/x draws a saved "
     "run as it is. Draw the run as saved: minigrad graph --run runs/x; or its run file, changed: minigrad graph "
     "runs/x/config.yaml --set PATH=VALUE"),
    (("configs/babi_rnn.yaml", "--format", "pdf"), "unknown --format 'pdf'"),
    (("--run", "no/such/run"), "no run folder at no/such/run"),
])
def test_bad_graph_requests_get_one_message(args, message):
    result = invoke("graph", *args)
    assert result.exit_code != 0 and message in one_line(result.output) and "Traceback" not in result.output


def test_dot_to_a_file(tmp_path):
    target = tmp_path / "g.dot"
    result = invoke("graph", "configs/babi_rnn.yaml", "--format", "dot", "-o", target)
    assert result.exit_code == 0 and "digraph" not in result.output and f"wrote {target}" in result.output
    assert any(label.startswith("RNNLayer") for label in labels(parse(target.read_text())).values())


def test_a_picture_without_o_goes_into_the_run_folder_or_train_out(lm_run_copy, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no Graphviz: the DOT text lands where the picture would
    monkeypatch.chdir(tmp_path)
    result = invoke("graph", "--run", lm_run_copy, "--format", "svg")
    assert result.exit_code == 1 and (lm_run_copy / "graph.dot").read_text().startswith("digraph")
    config = tmp_path / "run.yaml"
    config.write_text(find_config("babi_rnn").read_text())
    invoke("graph", config, "--format", "png", "--set", f"train.out={tmp_path / 'elsewhere'}")
    assert (tmp_path / "elsewhere" / "babi_rnn-graph.dot").is_file()
    assert not list(tmp_path.glob("*.dot"))  # nothing in the current folder
