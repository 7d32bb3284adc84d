"""Drawing a ``minigrad.viz.Graph`` as a rich Tree for the terminal.

It reads the same Node records as the DOT text (``minigrad.viz.to_dot``), so
what one shows the other shows too: the op (or the parameter's name), output
shape and dtype, the step count of a whole-sequence op, "× n" for a run of
ops repeated n times, and the norm of the gradient that reached each node
once backward has run.
"""

from rich.text import Text
from rich.tree import Tree

from ...viz import grad_text, title

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
