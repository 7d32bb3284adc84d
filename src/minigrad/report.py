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
