"""The Benchmark tab's device picker: which of the user's devices also run the bundle, over SSH."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QPushButton, QWidget

from studio.core.devices.store import Device, DeviceStore
from studio.core.errors import StudioError

NO_DEVICES = "No devices yet: sb3-studio device add NAME ssh://user@host, then device check NAME"


class QtDevicePicker(QPushButton):
    """A button whose menu lists the devices (refreshed each time it opens), each one checkable. A push
    button, as Runtimes beside it: a QToolButton's size leaves no room for its menu arrow, drawn over the
    text's end."""

    changed = Signal()

    def __init__(self, store: Callable[[], DeviceStore] = DeviceStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._checked: set[str] = set()
        self.setToolTip("Also run the run's bundle on these devices (Raspberry Pi, Coral...) over SSH")
        self.setMenu(QMenu(self))
        self.menu().aboutToShow.connect(self.refresh)
        self.refresh()

    def devices(self) -> dict[str, Device]:
        return self._store().devices()

    def refresh(self) -> None:
        menu = self.menu()
        menu.clear()
        try:
            devices = self.devices()
        except StudioError as exc:  # a damaged devices.json: say so in the menu, keep the tab usable
            menu.addAction(exc.line()).setEnabled(False)
            devices = {}
        self._checked &= set(devices)
        if not devices and not menu.actions():
            menu.addAction(NO_DEVICES).setEnabled(False)
        for name, device in devices.items():
            extra = ", Coral" if device.has_coral else (", compile host" if device.compile_host else "")
            action = menu.addAction(f"{name}  ({device.url}{extra})")
            action.setCheckable(True)
            action.setChecked(name in self._checked)
            action.setData(name)
            action.toggled.connect(lambda on, n=name: self._toggle(n, on))
        self._update_text()

    def _toggle(self, name: str, on: bool) -> None:
        (self._checked.add if on else self._checked.discard)(name)
        self._update_text()
        self.changed.emit()

    def selected(self) -> list[str]:
        return sorted(self._checked)

    def set_selected(self, names: list[str]) -> None:
        self._checked = set(names)
        self.refresh()
        self.changed.emit()

    def _update_text(self) -> None:
        self.setText("Devices: " + (", ".join(self.selected()) or "none"))
