"""Events a Qt-free model emits and its views listen to (napari's ``EventEmitter``, in miniature).

A model owns an :class:`Events` with one :class:`Emitter` per kind of change; a view connects its
``_on_*`` handlers and disconnects them when it shows another model. Callbacks run in the thread that
emits: the GUI's controllers apply worker results in the GUI thread, so views are called there.
"""

from __future__ import annotations

from typing import Any, Callable

Callback = Callable[..., Any]


class Emitter:
    def __init__(self) -> None:
        self._callbacks: list[Callback] = []

    def connect(self, callback: Callback) -> Callback:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)

    def __len__(self) -> int:
        return len(self._callbacks)


class Events:
    """``Events("added", "selected")`` gives ``events.added`` and ``events.selected``."""

    def __init__(self, *names: str) -> None:
        self._names = names
        for name in names:
            setattr(self, name, Emitter())

    def __getattr__(self, name: str) -> Emitter:  # for type checkers: every declared name is an Emitter
        raise AttributeError(f"no event named {name!r}; declared: {', '.join(self._names)}")
