"""SVG -> PNG with resvg (the ``report`` extra: ``pip install -e ".[report]"``); no browser needed."""

from __future__ import annotations

from .data import ReportError

EXTRA_HINT = 'PNG export needs the report extra: pip install -e ".[report]" (resvg-py)'


def have_rasteriser() -> bool:
    try:
        import resvg_py  # noqa: F401
    except ImportError:
        return False
    return True


def svg_to_png(svg: str, scale: float = 2.0) -> bytes:
    """Rasterise an SVG string at ``scale`` times its size, on a white background."""
    try:
        import resvg_py
    except ImportError as exc:
        raise ReportError(f"figures: {EXTRA_HINT}") from exc
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=scale, background="#ffffff"))
