"""Drawing a ``viz.Graph``: Graphviz DOT text, and a rich Tree for the terminal.

Both read the same Node records, so what one shows the other shows too: the
op (or the parameter's name), output shape and dtype, the step count of a
whole-sequence op, "× n" for a run of ops repeated n times, and the norm of
the gradient that reached each node once backward has run.
"""

from rich.text import Text

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


# ---- DOT --------------------------------------------------------------------------
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


# ---- the terminal ------------------------------------------------------------------
_TREE_STYLE = {"op": "bold", "parameter": "green", "input": "blue", "constant": "dim"}


def _line(node, number):
    text = Text(title(node), style=_TREE_STYLE[node.kind])
    if number:
        text.append(f" #{number}", style="dim")
    text.append(f"  {node.shape} {node.dtype}", style="dim" if node.kind == "constant" else "")
    if node.steps is not None:
        text.append(f"  {node.steps} steps", style="cyan")
    if node.grads:
        text.append(f"  {grad_text(node.grads)}", style="yellow")
    return text


def _readers(graph):
    """How many nodes read each node (loop edges included), to number the ones read twice or more."""
    counts = {}
    for node in graph.nodes.values():
        for key in node.inputs + node.loops:
            counts[key] = counts.get(key, 0) + 1
    return counts


def to_tree(graph, heading="graph"):
    """A rich Tree from the root down to the leaves; an op read by several others
    is drawn in full once, numbered, and named by its number elsewhere."""
    from rich.tree import Tree

    readers, numbers = _readers(graph), {}
    tree = Tree(Text(heading, style="bold"))
    waiting = [(graph.root, tree)]
    while waiting:  # depth first, a loop rather than recursion: graphs can be deep
        key, parent = waiting.pop()
        node = graph.nodes[key]
        if key in numbers:
            parent.add(Text(f"{title(node)} #{numbers[key]} (above)", style="dim"))
            continue
        if node.kind == "op" and readers.get(key, 0) > 1:
            numbers[key] = len(numbers) + 1
        branch = parent.add(_line(node, numbers.get(key)))
        for source in node.loops:
            branch.add(Text(f"↻ and the output of its previous repeat ({graph.nodes[source].label})", style="magenta"))
        waiting += [(source, branch) for source in reversed(node.inputs)]
    return tree
