"""Gated hops (GMemN2N): the ungated default is unchanged to the bit, the gate's two limits,
per-hop and global gates, and the run-file field with its errors."""

import numpy as np
import pytest

from conftest import one_line, write_config
from minigrad.errors import ConfigError
from minigrad.models import build_model
from minigrad.models.cases import MASK, MEMORIES, QUESTIONS, TIMES
from minigrad.models.memory import memn2n
from minigrad.tool.config import load_config
from test_memn2n_training import TINY_MEMN2N

# The outputs of memn2n(7, embedding_dim=4, hops=3, memory_size=5, std=0.5) from seed 3 on the
# gradcheck cases' batch, recorded before gates existed (and before the ages became answer candidates):
# the default (gates: none) must give them exactly, words-only answers asked for.
BEFORE_GATES = {
    "adjacent": [[0.0, 4.509486198425293, 1.6278599500656128, 1.5799822807312012, -0.3985862731933594,
                  -2.3270394802093506, -0.9200995564460754],
                 [0.0, 0.21499353647232056, 0.6812475919723511, -1.6770519018173218, -1.2903156280517578,
                  0.5124727487564087, 0.42976728081703186]],
    "layerwise": [[2.2200868129730225, 0.478096067905426, 0.934363603591919, -0.7039818167686462,
                   -0.02608775720000267, -0.2608363628387451, -0.9995073676109314],
                  [-2.936431407928467, -1.6026062965393066, -0.513190507888794, 0.0029757325537502766,
                   0.5049265027046204, 0.7068737745285034, -1.577227234840393]],
}
BATCH = (MEMORIES, QUESTIONS, TIMES, MASK)


def small(tying="adjacent", seed=3, **options):
    np.random.seed(seed)
    return memn2n(7, tying=tying, embedding_dim=4, hops=3, memory_size=5, std=0.5, **options)


@pytest.mark.parametrize("tying", ["adjacent", "layerwise"])
def test_the_ungated_default_gives_the_outputs_of_before_bit_for_bit(tying):
    words = {"answer_candidates": "words"}
    assert small(tying, **words)(*BATCH).data.tolist() == BEFORE_GATES[tying]
    assert small(tying, gates="none", **words)(*BATCH).data.tolist() == BEFORE_GATES[tying]


def test_gates_are_drawn_after_every_other_weight():
    """A gated model starts from the same tables as the ungated one of its seed."""
    plain, gated = small().state_dict(), small(gates="per_hop").state_dict()
    assert sorted(set(gated) - set(plain)) == [f"gates.{i}.{w}" for i in range(3) for w in ("bias", "weight")]
    for name, value in plain.items():
        np.testing.assert_array_equal(gated[name], value)


def test_per_hop_has_a_gate_per_hop_and_global_one_shared():
    assert len(small(gates="per_hop").gates) == 3 and len(small(gates="global").gates) == 1
    assert len(small(gates="global").parameters()) == len(small().parameters()) + 2


def test_gate_biases_start_near_one_half():
    np.random.seed(0)
    model = memn2n(7, embedding_dim=400, hops=3, gates="per_hop", std=0.1)
    bias = np.concatenate([g.bias.data for g in model.gates])
    weight = np.concatenate([g.weight.data.ravel() for g in model.gates])
    assert abs(bias.mean() - 0.5) < 0.02 and abs(bias.std() - 0.1) < 0.01
    assert abs(weight.mean()) < 0.002 and abs(weight.std() - 0.1) < 0.002


def set_gates(model, bias):
    for gate in model.gates:
        gate.weight.data[:] = 0
        gate.bias.data[:] = bias


@pytest.mark.parametrize("kind", ["per_hop", "global"])
def test_an_open_gate_passes_the_read_alone(kind):
    """T = 1: u <- o, the ungated hop with the sum's u term dropped (not u + o: no T gives the sum)."""
    gated, plain = small(gates=kind), small()
    set_gates(gated, 50.0)  # sigmoid(50) is 1 in float32
    plain._next = lambda u, o: o
    np.testing.assert_array_equal(gated(*BATCH).data, plain(*BATCH).data)
    assert not np.allclose(gated(*BATCH).data[:, :7], BEFORE_GATES["adjacent"], atol=0.1)  # the 7 words' scores


@pytest.mark.parametrize("kind", ["per_hop", "global"])
def test_a_shut_gate_keeps_the_question(kind):
    """T = 0: u never changes, so the answer is the question's vector read out, whatever the story."""
    gated = small(gates=kind)
    set_gates(gated, -50.0)
    slots = MEMORIES.shape[1]  # words, then the ages of this memory's slots
    read_out = np.concatenate([gated.tables[-1].weight.data, gated.times[-1].weight.data[:slots]])
    u = gated._bag([gated.tables[0].weight], QUESTIONS).data
    np.testing.assert_allclose(gated(*BATCH).data, u @ read_out.T, rtol=1e-6)
    other_story = np.where(MEMORIES > 0, 7 - MEMORIES, 0)
    np.testing.assert_array_equal(gated(other_story, QUESTIONS, TIMES, MASK).data, gated(*BATCH).data)


def test_a_half_open_gate_averages_u_and_the_read():
    gated, plain = small(gates="per_hop"), small()
    set_gates(gated, 0.0)  # T = sigmoid(0) = 1/2
    plain._next = lambda u, o: (u + o) * 0.5
    np.testing.assert_allclose(gated(*BATCH).data, plain(*BATCH).data, rtol=1e-6)


def test_layerwise_tying_refuses_gates():
    with pytest.raises(ValueError, match="adjacent"):
        small("layerwise", gates="per_hop")
    with pytest.raises(ValueError, match="gates must be one of none, global, per_hop"):
        small(gates="yes")


# ---- run files ---------------------------------------------------------------------------------


def test_the_shipped_config_builds_a_network_gated_per_hop():
    config = load_config("configs/babi_gmemn2n.yaml")
    model, optimizer = config.model, config.optimizer
    assert (model.gates, model.tying, model.embedding_dim, model.hops, model.random_noise) == \
           ("per_hop", "adjacent", 20, 3, 0.1)
    assert (model.linear_start.epochs, optimizer.lr, optimizer.schedule.every, optimizer.clip_norm,
            config.data.batch_size, config.train.epochs) == (20, 0.005, 25, 40.0, 32, 120)
    np.random.seed(0)
    built = build_model(config, 30)
    assert len(built.gates) == 3 and built.gates[0].weight.shape == (20, 20)


def test_gates_default_to_none(tmp_path):
    config = load_config(write_config(tmp_path, TINY_MEMN2N))
    assert config.model.gates == "none" and not build_model(config, 30).gates


@pytest.mark.parametrize("model, message", [
    ({"gates": "per-hop"}, "model.gates: expected 'none', 'per_hop' or 'global', got 'per-hop'; "
                           "did you mean 'per_hop'?"),
    ({"gates": "global", "tying": "layerwise"},
     "model.gates: global gates need tying: adjacent (the paper's), not layerwise"),
])
def test_gate_errors_name_the_field(tmp_path, model, message):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, TINY_MEMN2N, model={**TINY_MEMN2N["model"], **model}))
    assert message in one_line(str(info.value))


# ---- suites made before gates ------------------------------------------------------------------


def suite_made_before_gates(tmp_path):
    """A suite folder whose suite.json was written before model.gates existed."""
    import json

    from minigrad.tool.suite import plan

    config = write_config(tmp_path, TINY_MEMN2N)
    folder = tmp_path / "s"
    plan.prepare(config, [], [1], 1, folder)
    saved = json.loads((folder / plan.SUITE_FILE).read_text())
    del saved["run"]["model"]["gates"]
    (folder / plan.SUITE_FILE).write_text(json.dumps(saved))
    return plan, config, folder


def test_a_suite_made_before_gates_continues_without_them(tmp_path):
    plan, config, folder = suite_made_before_gates(tmp_path)
    assert plan.prepare(config, [], [1], 1, folder).config.model.gates == "none"


def test_a_suite_made_before_gates_refuses_gated_runs(tmp_path):
    plan, config, folder = suite_made_before_gates(tmp_path)
    with pytest.raises(ConfigError) as info:
        plan.prepare(config, ["model.gates=per_hop"], [1], 1, folder)
    assert 'model.gates was null, now "per_hop"' in one_line(str(info.value))
