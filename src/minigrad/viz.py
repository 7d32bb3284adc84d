"""Looking at a recorded graph: ``graph(tensor)`` gives its Graphviz DOT text
(the command line draws the same ``Graph`` as a tree in the terminal too).

The graph behind a tensor is its chain of op contexts (``tensor._ctx``, see
``autograd``). ``build`` walks it once into plain ``Node`` records: one per op
output and one per leaf, parameters named by their path in the model.

Models repeat themselves: a memory network runs the same few ops once per
hop, a stack of equal layers once per layer. Ops are numbered in the order
they ran, so a repeat is the same run of (op, shape, inputs) appearing several
times back to back in that order. ``build`` keeps the first run and marks it
"× n", so a three-hop network reads as one hop. An input one repeat takes from
the previous one becomes a *loop* edge of the kept run.
"""

from dataclasses import dataclass, field

import numpy as np

from .backend import to_numpy

_MAX_PERIOD = 64  # the longest run of ops searched for repeats
_MAX_SEARCHED = 5000  # above this many ops, repeats are not looked for (the search is quadratic)


@dataclass
class Node:
    """One box of the drawing: an op's output, a parameter, an input or a constant."""

    kind: str  # "op", "parameter", "input" (a leaf that wants a gradient) or "constant"
    label: str  # the op's class name, or the parameter's name
    shape: tuple
    dtype: str
    steps: int | None = None  # time steps of a whole-sequence op
    repeat: int = 1  # how many times this op ran back to back (see the module's docstring)
    grads: list = field(default_factory=list)  # the gradient's norm, one per repeat that has one
    inputs: list = field(default_factory=list)  # keys of the nodes it reads
    loops: list = field(default_factory=list)  # keys it reads from its own previous repeat


@dataclass
class Graph:
    nodes: dict  # key -> Node, the root's inputs before it in no particular order
    root: int


# Whole-sequence ops, and how many steps one ran: the RNN's input is time-major, (time, batch,
# features); the LSTM's may be a table of rows, so it keeps its count.
_STEPS = {"LSTMLayer": lambda ctx: ctx.steps, "RNNLayer": lambda ctx: ctx.parents[0].shape[0]}


def _norm(array):
    return float(np.linalg.norm(to_numpy(array).astype(np.float64).ravel()))


def record_gradients(loss):
    """``loss.backward(retain_graph=True)``, returning {id(op context): norm of the gradient that reached it}.

    Only leaves keep their gradient after backward; to see what reached the
    ops between, each context's ``backward`` is wrapped for this one pass.
    """
    norms, contexts = {}, [t._ctx for t in _ops(loss)]
    for ctx in contexts:
        def wrapped(grad, ctx=ctx, original=ctx.backward):
            norms[id(ctx)] = _norm(grad)
            return original(grad)
        ctx.backward = wrapped  # an instance attribute, shadowing the class's method
    try:
        loss.backward(retain_graph=True)
    finally:
        for ctx in contexts:
            del ctx.backward
    return norms


def _ops(root):
    """The op outputs in root's graph (root included), in the order the ops ran."""
    found, waiting = {}, [root]
    while waiting:
        t = waiting.pop()
        if t._ctx is None or id(t) in found:
            continue
        found[id(t)] = t
        waiting.extend(t._ctx.parents)
    return sorted(found.values(), key=lambda t: t._ctx.seq)


def _signature(t):
    """What makes two ops the same for grouping: op, shape, dtype and what kind of inputs, of which shapes."""
    inputs = tuple(("op" if p._ctx is not None else p.requires_grad, p.shape) for p in t._ctx.parents)
    return type(t._ctx).__name__, t.shape, str(t.dtype), inputs


def repeats(keys, max_period=_MAX_PERIOD):
    """Non-overlapping back-to-back repeats in ``keys``, as (start, period, count), the longest first.

    ``repeats("xabababy")`` is ``[(1, 2, 3)]``: "ab" three times from index 1.
    """
    n, found = len(keys), []
    for start in range(n):
        for period in range(1, min(max_period, (n - start) // 2) + 1):
            block, count = keys[start:start + period], 1
            while keys[start + count * period:start + (count + 1) * period] == block:
                count += 1
            if count > 1:
                found.append((-period * count, period, start, count))
    taken, chosen = set(), []
    for _, period, start, count in sorted(found):
        span = range(start, start + period * count)
        if not taken.intersection(span):
            taken.update(span)
            chosen.append((start, period, count))
    return chosen


def _grouping(ops, group):
    """For each op index: (index of its first repeat, which repeat it is, its block), and
    {first repeat's index: count}. An op outside every repeat is its own block."""
    place = [(i, 0, -1 - i) for i in range(len(ops))]
    counts = {}
    if group and len(ops) <= _MAX_SEARCHED:
        for start, period, count in repeats([_signature(t) for t in ops]):
            for i in range(start, start + period * count):
                place[i] = (start + (i - start) % period, (i - start) // period, start)
            counts.update({start + j: count for j in range(period)})
    return place, counts


def _leaf(t, names):
    if id(t) in names:
        kind, label = "parameter", names[id(t)]
    else:
        kind, label = ("input", "input") if t.requires_grad else ("constant", "constant")
    grads = [_norm(t.grad.data)] if t.grad is not None else []
    return Node(kind, label, tuple(t.shape), str(t.dtype), grads=grads)


def build(root, names=None, grads=None, group=True):
    """The graph behind ``root`` as Nodes keyed by id of their tensor (of the first repeat for grouped ops).

    ``names``: {id(parameter): name}; ``grads``: {id(op context): norm} from ``record_gradients``.
    """
    names, grads = names or {}, grads or {}
    ops = _ops(root)
    if not ops:
        return Graph({id(root): _leaf(root, names)}, id(root))
    place, counts = _grouping(ops, group)
    index = {id(t): i for i, t in enumerate(ops)}
    nodes = {}
    for i, t in enumerate(ops):
        head, repeat, block = place[i]
        node = nodes.get(id(ops[head]))
        if node is None:
            node = nodes[id(t)] = _op_node(t, counts.get(i, 1))
        if id(t._ctx) in grads:
            node.grads.append(grads[id(t._ctx)])
        for p in t._ctx.parents:
            if id(p) not in index:
                if repeat > 0 and not p.requires_grad:
                    continue  # a later repeat's constant is the first one's again, as far as the drawing goes
                nodes.setdefault(id(p), _leaf(p, names))
                _add(node.inputs, id(p))
                continue
            p_head, p_repeat, p_block = place[index[id(p)]]
            # Read from an earlier repeat of the same block: the output one repeat hands the next.
            loop = p_block == block and p_repeat != repeat
            _add(node.loops if loop else node.inputs, id(ops[p_head]))
    return Graph(nodes, id(ops[place[-1][0]]))  # the root ran last: every op it reads ran before it


def _op_node(t, repeat):
    ctx = t._ctx
    steps = _STEPS.get(type(ctx).__name__)
    return Node("op", type(ctx).__name__, tuple(t.shape), str(t.dtype),
                steps=steps(ctx) if steps else None, repeat=repeat)


def _add(keys, key):
    if key not in keys:
        keys.append(key)


# ---- DOT text ----------------------------------------------------------------------

GRAD = "‖grad‖"

# How each kind of node is drawn in DOT: a box for ops, parameters filled green.
_DOT_STYLE = {
    "op": 'shape=box, style="rounded"',
    "parameter": 'shape=ellipse, style=filled, fillcolor="#c8e6c9"',
    "input": 'shape=ellipse, style=filled, fillcolor="#bbdefb"',
    "constant": 'shape=note, fontcolor="#666666", color="#999999"',
}


def title(node):
    """The node's name with its repeat count: ``MatMul × 3``, ``cells.0.w_hh.weight``."""
    return node.label + (f" × {node.repeat}" if node.repeat > 1 else "")


def grad_text(grads):
    """``‖grad‖ 0.0123``, or a range for a repeated op whose repeats got different norms."""
    if not grads:
        return ""
    low, high = min(grads), max(grads)
    same = high - low <= 1e-3 * max(abs(high), 1e-30)
    return f"{GRAD} {high:.3g}" if same else f"{GRAD} {low:.3g}…{high:.3g}"


def details(node):
    """Shape and dtype, then the step count when there is one."""
    text = f"{node.shape} {node.dtype}"
    return text + (f", {node.steps} steps" if node.steps is not None else "")


def quote(text):
    """A DOT string literal: backslashes and double quotes escaped, newlines as DOT's \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph):
    """The graph as DOT text: data flows upward, from the parameters at the bottom to the loss at the top."""
    ids = {key: f"n{i}" for i, key in enumerate(graph.nodes)}
    lines = ["digraph minigrad {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for key, node in graph.nodes.items():
        label = "\n".join(part for part in (title(node), details(node), grad_text(node.grads)) if part)
        extra = ", peripheries=2" if node.repeat > 1 else ""
        lines.append(f"  {ids[key]} [label={quote(label)}, class={quote(node.kind)}, "
                     f"{_DOT_STYLE[node.kind]}{extra}];")
    for key, node in graph.nodes.items():
        lines += [f"  {ids[source]} -> {ids[key]};" for source in node.inputs]
        lines += [f'  {ids[source]} -> {ids[key]} [style=dashed, constraint=false, label="next repeat"];' for source in node.loops]
    lines.append("}")
    return "\n".join(lines) + "\n"


def parameter_names(model):
    """{id(parameter): dotted name} for a Module (or a ready dict of names)."""
    if model is None:
        return {}
    if isinstance(model, dict):
        return model
    return {id(p): name for name, p in model.named_parameters()}


def graph(tensor, model=None, group=True):
    """The DOT text (Graphviz) of the graph behind ``tensor``; ``model`` names its parameters.

    Call it before backward, or after ``backward(retain_graph=True)`` to see
    each parameter's gradient norm (``record_gradients`` gives the ops' too).
    """
    return to_dot(build(tensor, parameter_names(model), group=group))
