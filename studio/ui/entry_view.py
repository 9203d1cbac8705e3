"""The base of every tab: a view of the session's selected model.

A subclass names the model events it draws (``("pipeline", "run")``) and defines ``_on_<event>``
handlers and ``_on_entry(entry)``; this class connects them to the selected model and disconnects
them when another one is selected, so a tab never draws a model that is not selected.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import QWidget

from studio.core.session import ModelEntry, Session


class EntryView(QWidget):
    def __init__(self, session: Session, events: tuple[str, ...]) -> None:
        super().__init__()
        self.session = session
        self.entry: ModelEntry | None = None
        self._events = events
        self._handlers: dict[str, Callable[..., Any]] = {}
        session.events.selected.connect(self.show_entry)

    def show_entry(self, entry: ModelEntry | None) -> None:
        if self.entry is not None:
            for name, handler in self._handlers.items():
                getattr(self.entry.events, name).disconnect(handler)
        self.entry, self._handlers = entry, {}
        if entry is not None:
            for name in self._events:
                handler = getattr(self, f"_on_{name}")
                getattr(entry.events, name).connect(handler)
                self._handlers[name] = handler
        self._on_entry(entry)

    def _on_entry(self, entry: ModelEntry | None) -> None:
        raise NotImplementedError
