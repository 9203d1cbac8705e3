"""The studio's session: the models the user opened, which one is selected, and where each converts to.

Qt-free (napari's way: the model in ``core``, ``Qt<Model>`` views in ``ui``). The list of models, the
selection and each model's output folder are kept in ``session.json`` under the studio's data folder;
everything a model has produced lives in its run folder and is read back from there on start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..atomic import atomic_write_text
from ..library import LibraryEntry, data_dir, default_runs_folder, discover, run_dir_for
from ..observable import Events
from ..pipeline.run_folder import read_manifest
from .entry import ModelEntry

VERSION = 1


def default_store() -> Path:
    return data_dir() / "session.json"


@dataclass
class Opened:
    """What opening some paths did: new entries, ones already open, and paths that held no model."""

    added: list[ModelEntry] = field(default_factory=list)
    already: list[ModelEntry] = field(default_factory=list)
    empty: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)

    @property
    def first(self) -> ModelEntry | None:
        return (self.added or self.already or [None])[0]


class Session:
    """Events: ``added(entry)``, ``removed(entry)``, ``selected(entry or None)``, ``changed(entry)``."""

    def __init__(self, store: Path | None = None, runs: Path | None = None) -> None:
        self.store = store
        self.runs = runs or default_runs_folder()
        self.entries: list[ModelEntry] = []
        self.selected: ModelEntry | None = None
        self.events = Events("added", "removed", "selected", "changed")

    # Opening and closing models ----------------------------------------------------------------------
    def open(self, paths: Iterable[Path]) -> Opened:
        opened = Opened()
        for path in map(Path, paths):
            if not path.exists():
                opened.missing.append(path)
                continue
            found = discover(path)
            if not found:
                opened.empty.append(path)
            for model in found:
                existing = self.find(model)
                if existing is not None:
                    opened.already.append(existing)
                else:
                    opened.added.append(self._add(ModelEntry(model)))
        if opened.added:
            self.save()
        return opened

    def _add(self, entry: ModelEntry) -> ModelEntry:
        self.entries.append(entry)
        self._relabel()
        self.events.added.emit(entry)
        return entry

    def remove(self, entry: ModelEntry) -> None:
        if entry not in self.entries:
            return
        if self.selected is entry:
            self.select(None)
        self.entries.remove(entry)
        self._relabel()
        self.events.removed.emit(entry)
        self.save()

    def find(self, path: Path) -> ModelEntry | None:
        path = Path(path).absolute()
        return next((e for e in self.entries if e.path.absolute() == path), None)

    def select(self, entry: ModelEntry | None) -> None:
        if entry is not self.selected:
            self.selected = entry
            self.events.selected.emit(entry)
            self.save()

    # What a background worker found out -----------------------------------------------------------
    def described(self, description: LibraryEntry) -> ModelEntry | None:
        """A model has been loaded and described: show it, and settle its run folder."""
        entry = self.find(description.path)
        if entry is None:
            return None
        entry.describe_with(description)
        if entry.kind == "sb3" and (entry.default_run is None or not self._ours(entry, entry.default_run)):
            entry.default_run = self._free_run_dir(entry)
        entry.reload_run()
        self.events.changed.emit(entry)
        self.save()
        return entry

    def run_changed(self, entry: ModelEntry) -> None:
        """A conversion, benchmark or rollout wrote into the entry's run folder."""
        entry.reload_run()
        self.events.changed.emit(entry)
        self.save()

    def _ours(self, entry: ModelEntry, folder: Path) -> bool:
        """May ``entry`` convert into ``folder``: no other model's run is there, nor planned there?"""
        manifest = read_manifest(folder)
        recorded = (manifest or {}).get("model", {}).get("sha256")
        if manifest is not None and recorded and entry.sha256 and recorded != entry.sha256:
            return False
        return not any(other is not entry and other.default_run == folder and other.sha256 != entry.sha256
                       for other in self.entries)

    def _free_run_dir(self, entry: ModelEntry) -> Path:
        base = run_dir_for(entry.path, self.runs)
        candidate, index = base, 1
        while not self._ours(entry, candidate):
            index += 1
            candidate = base.with_name(f"{base.name}-{index}")
        return candidate

    def _relabel(self) -> None:
        """Two models with the same name (the demo's and the zoo's PPO CartPole) say where they are."""
        groups: dict[str, list[ModelEntry]] = {}
        for entry in self.entries:
            groups.setdefault(entry.base_name, []).append(entry)
        for name, group in groups.items():
            tags = _distinguishing_tags(name, [e.path for e in group]) if len(group) > 1 else [""]
            for entry, tag in zip(group, tags):
                entry.label = f"{name} ({tag})" if tag else name

    # Persistence ---------------------------------------------------------------------------------
    def save(self) -> None:
        if self.store is None:
            return
        data = {
            "version": VERSION,
            "models": [{"path": str(e.path), "out": str(e.out) if e.out else None,
                        "run": str(e.default_run) if e.default_run else None} for e in self.entries],
            "selected": str(self.selected.path) if self.selected else None,
        }
        try:
            atomic_write_text(self.store, json.dumps(data, indent=2) + "\n")
        except OSError:
            pass  # a read-only data folder costs the next start its list of models, nothing else

    def restore(self) -> list[ModelEntry]:
        """Open the models of the last session (those still on disk); their run folders are read now."""
        try:
            data = json.loads(self.store.read_text()) if self.store else {}
        except (OSError, ValueError):
            data = {}
        restored = []
        for item in data.get("models", []) if isinstance(data, dict) else []:
            path = Path(item.get("path", ""))
            if not path.is_file() or self.find(path) is not None:
                continue
            entry = ModelEntry(path)
            entry.out = Path(item["out"]) if item.get("out") else None
            entry.default_run = Path(item["run"]) if item.get("run") else None
            entry.reload_run()
            restored.append(self._add(entry))
        selected = data.get("selected") if isinstance(data, dict) else None
        if selected:
            self.select(self.find(Path(selected)))
        return restored


def _distinguishing_tags(name: str, paths: list[Path]) -> list[str]:
    """For files that share a display name, the nearest folder names above it that tell them apart."""
    skip = name.count("/") + 1 if "/" in name else 0
    for depth in range(skip, max(len(p.parents) for p in paths)):
        tags = [p.parents[depth].name if depth < len(p.parents) else "" for p in paths]
        if len(set(tags)) == len(tags):
            return tags
    return [str(p.parent) for p in paths]
