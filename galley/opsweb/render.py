"""HTML for the ops page: an SVG picture of the pipeline, tables, a trace view."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from galley import ops
from galley.opsweb.data import EDGES, SERVICES, Overview, since

BOX_W, BOX_H, GAP, TOP = 130, 96, 160, 50
NEWSROOM = "newsroom"

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
header{background:#1d2733;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}header a{color:#9cc3ff}
main{padding:16px 24px;max-width:1200px}
section{background:#fff;border:1px solid #d9e0e8;border-radius:8px;padding:12px 16px;
margin:0 0 16px}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;
border-bottom:1px solid #eef1f5;font-variant-numeric:tabular-nums}th{color:#5b6b7c;font-weight:600}
td.n{text-align:right}.bad{color:#b3261e;font-weight:600}.ok{color:#1e7b34}
svg text{font-family:system-ui,sans-serif}
form{display:flex;gap:8px}input[type=text]{flex:1;padding:6px 8px;font:inherit}
button{padding:6px 14px;font:inherit}.muted{color:#5b6b7c}
"""


def page(title: str, body: str, nonce: str, refresh: int | None) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{meta}'
        f'<title>{escape(title)}</title><style nonce="{nonce}">{CSS}</style></head>'
        f'<body><header><h1>galley ops</h1><a href="/">pipeline</a>'
        f'<span class="muted">{"auto-refresh every " + str(refresh) + " s" if refresh else ""}'
        f"</span></header><main>{body}</main></body></html>"
    )


def _x(index: int) -> int:
    return 20 + index * (BOX_W + GAP)


def _node(index: int, name: str, health: str, dead: int | None) -> str:
    x = _x(index)
    healthy = health in {"ready", ""}
    colour = "#e8f3ec" if healthy else "#fbe9e7"
    stroke = "#1e7b34" if healthy else "#b3261e"
    lines = [
        f'<g class="node" data-service="{escape(name)}">',
        f'<rect x="{x}" y="{TOP}" width="{BOX_W}" height="{BOX_H}" rx="10" fill="{colour}"'
        f' stroke="{stroke}" stroke-width="2"/>',
        f'<text x="{x + BOX_W / 2}" y="{TOP + 26}" text-anchor="middle" font-size="16"'
        f' font-weight="700">{escape(name)}</text>',
    ]
    if not health:
        lines.append(
            f'<text x="{x + BOX_W / 2}" y="{TOP + 50}" text-anchor="middle"'
            ' font-size="12" fill="#5b6b7c">HTTP and stream</text>'
        )
    if health:
        lines.append(
            f'<text x="{x + BOX_W / 2}" y="{TOP + 50}" text-anchor="middle"'
            f' font-size="13" fill="{stroke}">{escape(health)}</text>'
        )
    if dead is not None:
        fill = "#b3261e" if dead else "#5b6b7c"
        lines.append(
            f'<text x="{x + BOX_W / 2}" y="{TOP + 76}" text-anchor="middle"'
            f' font-size="13" fill="{fill}">dead letters: {dead}</text>'
        )
    lines.append("</g>")
    return "".join(lines)


def _edge(stream: str, src: int, dst: int, row: int, status: ops.StreamStatus) -> str:
    x1, x2 = _x(src) + BOX_W, _x(dst)
    y = TOP + 30 + row * 40
    lag = sum(g.lag or 0 for g in status.groups)
    pending = sum(g.pending for g in status.groups)
    warn = "#b3261e" if lag or pending else "#1d2733"
    label_y = y - 8 if row == 0 else y + 18
    stats = f"len {status.length} · lag {lag} · pending {pending}"
    label_x = (x1 + x2) / 2
    return (
        f'<g class="edge" data-stream="{escape(stream)}">'
        f'<line x1="{x1}" y1="{y}" x2="{x2 - 6}" y2="{y}" stroke="#5b6b7c" stroke-width="2"'
        f' marker-end="url(#arrow)"/>'
        f'<text x="{label_x}" y="{label_y - (14 if row == 0 else -14)}" text-anchor="middle"'
        f' font-size="12" font-weight="600">{escape(stream)}</text>'
        f'<text x="{label_x}" y="{label_y}" text-anchor="middle" font-size="11"'
        f' fill="{warn}">{escape(stats)}</text></g>'
    )


def picture(view: Overview) -> str:
    order = [NEWSROOM, *SERVICES]
    width = _x(len(order)) - GAP + 20
    parts = [
        f'<svg role="img" aria-label="the galley pipeline" viewBox="0 0 {width} 200"'
        f' width="100%"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5"'
        ' markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z"'
        ' fill="#5b6b7c"/></marker></defs>'
    ]
    parts.append(_node(0, NEWSROOM, "", None))
    for i, service in enumerate(SERVICES, start=1):
        parts.append(
            _node(
                i, service, view.health.get(service, "unknown"), view.dead_letters.get(service, 0)
            )
        )
    rows: dict[tuple[int, int], int] = {}
    for stream, src, dst in EDGES:
        a, b = order.index(src or NEWSROOM), order.index(dst)
        row = rows.get((a, b), 0)
        rows[(a, b)] = row + 1
        parts.append(_edge(stream, a, b, row, view.streams[stream]))
    parts.append("</svg>")
    return "".join(parts)


def groups_table(view: Overview) -> str:
    rows = []
    for name, st in view.streams.items():
        groups: list[Any] = list(st.groups) or [None]
        for g in groups:
            if g is None:
                rows.append(
                    f"<tr><td>{escape(name)}</td><td class=n>{st.length}</td>"
                    "<td>-</td><td class=n>-</td><td class=n>-</td><td>-</td><td>-</td>"
                    "</tr>"
                )
                continue
            age = f"{g.oldest_pending_age_s:.1f} s" if g.oldest_pending_age_s is not None else "-"
            cls = ' class="n bad"' if g.lag or g.pending else " class=n"
            consumers = ", ".join(f"{c['name']} ({c['pending']})" for c in g.consumers) or "-"
            rows.append(
                f"<tr><td>{escape(name)}</td><td class=n>{st.length}</td>"
                f"<td>{escape(g.name)}</td><td{cls}>{g.lag}</td><td{cls}>{g.pending}</td>"
                f"<td>{age}</td><td>{escape(consumers)}</td></tr>"
            )
    return (
        "<section><h2>Streams and consumer groups</h2><table><thead><tr><th>stream</th>"
        "<th>length</th><th>group</th><th>lag</th><th>pending</th><th>oldest pending</th>"
        f"<th>consumers</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def recent_table(view: Overview) -> str:
    if not view.recent:
        return (
            '<section><h2>Recent articles</h2><p class="muted">nothing published yet</p></section>'
        )
    rows = "".join(
        f"<tr><td>{a['time'].strftime('%H:%M:%S')}</td><td>{escape(a['type'])}</td>"
        f"<td class=n>{escape(str(a['version']))}</td><td>{escape(a['headline'])}</td>"
        f'<td><a href="/trace?uri={quote(a["uri"], safe="")}">trace</a></td></tr>'
        for a in view.recent
    )
    return (
        "<section><h2>Recent articles</h2><table><thead><tr><th>published</th><th>event</th>"
        "<th>v</th><th>headline</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def rejected_table(view: Overview) -> str:
    if not view.rejected:
        return '<section><h2>Refused submissions</h2><p class="muted">nothing refused</p></section>'
    rows = "".join(
        f"<tr><td>{r['time'].strftime('%H:%M:%S')}</td><td>{escape(r['source'])}</td>"
        f"<td>{escape(r['door'])}</td><td>{escape(r['problem'])}</td>"
        f"<td>{escape(r['uri'])}</td><td>{escape(r['reason'][:300])}</td></tr>"
        for r in view.rejected
    )
    return (
        "<section><h2>Refused submissions</h2><table><thead><tr><th>time</th><th>source</th>"
        "<th>door</th><th>problem</th><th>uri</th><th>reason</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def trace_form(uri: str = "") -> str:
    return (
        '<section><h2>Trace one article</h2><form method="get" action="/trace">'
        f'<input type="text" name="uri" value="{escape(uri)}" placeholder="article uri"'
        ' aria-label="article uri" required maxlength="2000"><button>Trace</button>'
        "</form></section>"
    )


def overview_body(view: Overview) -> str:
    return (
        f"<section><h2>Pipeline</h2>{picture(view)}</section>{trace_form()}"
        f"{recent_table(view)}{rejected_table(view)}{groups_table(view)}"
    )


def trace_body(uri: str, hops: list[ops.Hop], source: str) -> str:
    if not hops:
        return trace_form(uri) + (
            f'<section><h2>Trace</h2><p class="bad">no event mentions {escape(uri)}</p></section>'
        )
    accepted = next((h.time for h in hops if h.stream == ops.names.ARTICLES_INGESTED), None)
    rows, previous = [], None
    for hop in hops:
        rows.append(
            f"<tr><td>{hop.time.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]}</td>"
            f"<td>{escape(hop.label)}</td><td>{escape(hop.type)}</td>"
            f"<td class=n>{hop.version or ''}</td>"
            f"<td>{escape(hop.stream)} {escape(hop.entry_id)}</td>"
            f"<td class=n>{since(hop.time, previous)}</td>"
            f"<td class=n>{since(hop.time, accepted)}</td></tr>"
        )
        previous = hop.time
    return trace_form(uri) + (
        f'<section><h2>Trace of {escape(uri)}</h2><table class="trace"><thead><tr>'
        "<th>time (UTC)</th><th>hop</th><th>event</th><th>v</th><th>where</th>"
        "<th>since previous</th><th>since accepted</th></tr></thead>"
        f'<tbody>{"".join(rows)}</tbody></table><p class="muted">deliveries: '
        f"{escape(source)}</p>{_trace_ids(hops)}</section>"
    )


def _trace_ids(hops: list[ops.Hop]) -> str:
    ids = sorted({h.traceparent.split("-")[1] for h in hops if h.traceparent.count("-") == 3})
    return f'<p class="muted">trace ids: {escape(", ".join(ids))}</p>' if ids else ""
