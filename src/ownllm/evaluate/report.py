"""The evaluation report: `report.json` plus a self-contained `report.html` with PNG charts."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _bars(summary: dict[str, dict[str, Any]], sets: list[str], systems: list[str], path: Path, metric: str,
          title: str) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    width = 0.8 / max(1, len(systems))
    for index, system in enumerate(systems):
        means, errors = [], [[], []]
        for name in sets:
            cell = summary.get(name, {}).get(system, {}).get(metric, {})
            mean = cell.get("mean", 0.0)
            low, high = cell.get("ci", [mean, mean])
            means.append(mean)
            errors[0].append(max(0.0, mean - low))
            errors[1].append(max(0.0, high - mean))
        xs = [i + index * width for i in range(len(sets))]
        ax.bar(xs, means, width, yerr=errors, capsize=3, label=system)
    ax.set_xticks([i + width * (len(systems) - 1) / 2 for i in range(len(sets))], sets)
    ax.set_ylim(0, 1)
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _img(path: Path) -> str:
    return f'<img alt="{path.stem}" src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}">'


def write_report(folder: Path, report: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    systems, sets = report["systems"], [s for s in report["sets"] if s in report["summary"]]
    charts = [_bars(report["summary"], sets, systems, folder / "f1_by_set.png", "f1",
                    "Token F1 (char F1 for Chinese) by question set, 95% CI")]
    langs = report.get("by_language", {})
    if langs:
        charts.append(_bars(langs, sorted(langs), systems, folder / "f1_by_language.png", "f1", "F1 by language"))
    rows = []
    for name in sets:
        for system in systems:
            cell = report["summary"][name].get(system, {})
            if not cell:
                continue
            cite = "" if cell.get("citation_accuracy") is None else f"{cell['citation_accuracy']:.3f}"
            nf = "" if cell.get("not_found_rate") is None else f"{cell['not_found_rate']:.3f}"
            lang = f"{cell['answer_language']['mean']:.3f}" if "answer_language" in cell else ""
            rows.append(f"<tr><td>{name}</td><td>{html.escape(system)}</td><td>{cell['n']}</td>"
                        f"<td>{cell['em']['mean']:.3f}</td><td>{cell['f1']['mean']:.3f} "
                        f"[{cell['f1']['ci'][0]:.3f}, {cell['f1']['ci'][1]:.3f}]</td>"
                        f"<td>{cite}</td><td>{nf}</td><td>{lang}</td></tr>")
    samples = []
    for item in report.get("samples", []):
        answers = "".join(f"<li><b>{html.escape(s)}</b>: {html.escape(a)}</li>" for s, a in item["answers"].items())
        samples.append(f"<tr><td>{item['set']}</td><td>{html.escape(item['question'])}</td>"
                       f"<td>{html.escape(item['gold'] or '(not in the documents)')}</td>"
                       f"<td><ul>{answers}</ul></td></tr>")
    gates = "".join(f"<li><b>{html.escape(g['model'])}</b>: {'promoted' if g['promoted'] else 'not promoted'} — "
                    f"{html.escape('; '.join(g['reasons']))}</li>" for g in report.get("gate", []))
    general = "".join(f"<li>{html.escape(name)}: perplexity {value['perplexity']:.2f}</li>"
                      for name, value in report.get("general", {}).items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>ownllm evaluation {report['id']}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}ul{{margin:0;padding-left:1.2em}}</style></head>
<body><h1>Evaluation {report['id']}</h1>
<p>Tenant {html.escape(report['tenant'])}, dataset {report.get('dataset_id')}, corpus version
{report.get('corpus_version_id')}. Held-out questions come from documents no training record came from.
Unanswerable questions are about things the documents do not say: their F1 is the share declined.
Reader: {html.escape(str(report.get('reader') or 'the base model'))}.</p>
<h2>Promotion gate</h2><ul>{gates or '<li>no tuned model evaluated</li>'}</ul>
<h2>Results</h2><table><tr><th>set</th><th>system</th><th>n</th><th>EM</th><th>F1 [95% CI]</th>
<th>citation accuracy</th><th>not found</th><th>answered in the question's language</th></tr>{''.join(rows)}</table>
{''.join(_img(c) for c in charts)}
<h2>General ability</h2><ul>{general}</ul>
<h2>Sample questions</h2><table><tr><th>set</th><th>question</th><th>gold</th><th>answers</th></tr>
{''.join(samples)}</table></body></html>"""
    out = folder / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
