"""Words for messages: the closest valid name to a misspelt one, and values cut to a readable length."""

import difflib


def kind_of(value):
    """'a mapping', 'a list', 'text', or the type's name: what a YAML value is, for a message."""
    return {dict: "a mapping", list: "a list", str: "text"}.get(type(value), type(value).__name__)


_MEANS = {"gpu": "cuda", "nvidia": "cuda", "cupy": "cuda", "numpy": "cpu"}  # difflib offers 'cpu' for 'gpu'


def closest(word, choices):
    """The choice most like ``word``, ignoring case, or None if none is close."""
    if not isinstance(word, str):
        return None
    lowered = {c.lower(): c for c in choices}
    meant = _MEANS.get(word.strip().lower())
    if meant in lowered:
        return lowered[meant]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def did_you_mean(word, choices):
    """'; did you mean 'lr'?' for the closest choice, or ''."""
    close = closest(word, choices)
    return f"; did you mean {close!r}?" if close else ""


def short_repr(value, limit=80):
    """``repr(value)``, cut to ``limit`` characters; a huge whole number by its number of digits."""
    if isinstance(value, int) and value.bit_length() > 256:  # repr of over 4300 digits even raises
        return f"a {'negative ' if value < 0 else ''}number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    if isinstance(value, (dict, list, tuple, set)) and len(value) > limit:
        return f"{kind_of(value)} of {len(value):,} items"
    return short_text(repr(value), limit)


def short_text(text, limit=80):
    """``text`` cut to ``limit`` characters, ending in '...' if cut."""
    return text if len(text) <= limit else text[:limit - 3] + "..."
