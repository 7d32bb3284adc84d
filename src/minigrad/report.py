"""Rich tables for the command line. Functions here build and return them;
the caller decides where to print."""

from rich.table import Table


def gradcheck_table(results) -> Table:
    """One row per gradcheck case: op, configuration, shapes, errors, verdict."""
    table = Table(title="gradcheck: backprop vs central differences (float64)")
    for column, justify in [("op", "left"), ("case", "left"), ("shapes", "left"),
                            ("max abs err", "right"), ("max rel err", "right"), ("result", "center")]:
        table.add_column(column, justify=justify)
    for r in results:
        verdict = "[green]pass[/]" if r.result.ok else "[bold red]FAIL[/]"
        table.add_row(r.name, r.label, r.shapes, f"{r.result.max_abs_err:.1e}", f"{r.result.max_rel_err:.1e}", verdict)
    return table


METRIC_HEADERS = [("epoch", "epoch", "{}"), ("train_loss", "train loss", "{:.4f}"), ("train_acc", "train acc", "{:.3f}"),
                  ("test_loss", "test loss", "{:.4f}"), ("test_acc", "test acc", "{:.3f}"),
                  ("examples_per_s", "examples/s", "{:,.0f}"), ("elapsed_s", "elapsed", "{:.1f}s")]


def metrics_table(title) -> Table:
    """An empty table with one column per metric; ``add_metrics_row`` fills it."""
    table = Table(title=title)
    for _, header, _ in METRIC_HEADERS:
        table.add_column(header, justify="right")
    return table


def add_metrics_row(table, row):
    table.add_row(*[fmt.format(row[key]) for key, _, fmt in METRIC_HEADERS])


def predictions_table(pairs, what) -> Table:
    """The top-k words with their probabilities."""
    table = Table(title=f"top {len(pairs)} {what}")
    table.add_column("rank", justify="right")
    table.add_column("word")
    table.add_column("probability", justify="right")
    for rank, (word, prob) in enumerate(pairs, 1):
        table.add_row(str(rank), word, f"{prob:.3f}")
    return table
