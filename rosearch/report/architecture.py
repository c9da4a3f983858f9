"""A picture of a student's cell (SVG): the searched DAG, for optuna-dashboard and reports.

Hand-written SVG because no library we depend on draws DAGs (graphviz would be a system
dependency); the layout is fixed: the two cell inputs on the left, the nodes in order, the output
(mean of the nodes + residual, layer-normalised) on the right.
"""

from __future__ import annotations

from html import escape

from rosearch.student.genome import Genome

_H, _COL, _BOX_W, _BOX_H = 260, 150, 84, 34


def _state_label(state: int) -> str:
    return {0: "c[k-2]", 1: "c[k-1]"}.get(state, f"n{state - 2}")


def genome_svg(genome: Genome, *, title: str | None = None) -> str:
    """The cell of `genome` as a standalone SVG document."""
    n = len(genome.nodes)
    width = 60 + _COL * (n + 2)
    mid = _H // 2 + 10
    pos: dict[str, tuple[float, float]] = {"0": (40 + _BOX_W / 2, mid - 55), "1": (40 + _BOX_W / 2, mid + 55)}
    for i in range(n):
        pos[str(i + 2)] = (40 + _COL * (i + 1) + _BOX_W / 2, mid + (-45 if i % 2 else 45) * (n > 2))
    pos["out"] = (40 + _COL * (n + 1) + _BOX_W / 2, mid)

    edges, labels = [], []
    for i, node in enumerate(genome.nodes):
        tx, ty = pos[str(i + 2)]
        for j, (state, op) in enumerate(zip(node.inputs, node.ops)):
            sx, sy = pos[str(state)]
            bend = (-1 if j == 0 else 1) * (25 + 12 * abs(i + 2 - state))
            cx, cy = (sx + tx) / 2, (sy + ty) / 2 + bend
            dash = ' stroke-dasharray="4 3"' if op == "zero" else ""
            edges.append(f'<path d="M{sx + _BOX_W / 2:.0f},{sy:.0f} Q{cx:.0f},{cy:.0f} {tx - _BOX_W / 2:.0f},{ty:.0f}" fill="none" stroke="#555" marker-end="url(#arrow)"{dash}/>')
            lx, ly = (sx + 2 * cx + tx) / 4, (sy + 2 * cy + ty) / 4
            labels.append(f'<text x="{lx:.0f}" y="{ly - 3:.0f}" class="op">{escape(op)}</text>')
    ox, oy = pos["out"]
    for i in range(n):
        sx, sy = pos[str(i + 2)]
        edges.append(f'<path d="M{sx + _BOX_W / 2:.0f},{sy:.0f} L{ox - _BOX_W / 2:.0f},{oy:.0f}" stroke="#aaa" stroke-dasharray="2 3" fill="none" marker-end="url(#arrow)"/>')

    boxes = []
    for key, (x, y) in pos.items():
        text = "c[k] = LN(c[k-1] + mean)" if key == "out" else _state_label(int(key))
        fill = "#e8f0fe" if key in ("0", "1") else ("#e6f4ea" if key == "out" else "#fff7e0")
        w = _BOX_W + (90 if key == "out" else 0)
        boxes.append(f'<rect x="{x - w / 2:.0f}" y="{y - _BOX_H / 2:.0f}" width="{w}" height="{_BOX_H}" rx="6" fill="{fill}" stroke="#333"/>'
                     f'<text x="{x:.0f}" y="{y + 5:.0f}" class="box">{escape(text)}</text>')
    extra = [f"{genome.n_heads} heads" for _ in [0] if genome.n_heads] + [f"ffn {genome.ffn_size}" for _ in [0] if genome.ffn_size]
    head = title or "student cell"
    sub = f"{genome.n_cells} cell(s) × hidden {genome.hidden_size}, embeddings {genome.embedding_size}" + (f", {', '.join(extra)}" if extra else "")
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 90}" height="{_H + 40}" viewBox="0 0 {width + 90} {_H + 40}" font-family="sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<style>.op{font-size:12px;fill:#a33;text-anchor:middle}.box{font-size:13px;text-anchor:middle}.t{font-size:15px;font-weight:bold}.s{font-size:12px;fill:#444}</style>',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="20" y="22" class="t">{escape(head)}</text><text x="20" y="40" class="s">{escape(sub)}</text>',
        *edges, *labels, *boxes, "</svg>",
    ]) + "\n"
