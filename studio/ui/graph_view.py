"""Any artifact's graph in Netron, inside the window and offline.

Netron serves the file on 127.0.0.1; a QWebEngineView shows it. Netron asks for cookie consent
before it draws (the ``consent=1`` cookie is set for its page) and calls an analytics service (every
request not to 127.0.0.1 is blocked). Without QtWebEngine the view offers the system browser.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QPushButton, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from .int8_diagnostics import diagnostics_beside

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def webengine_available() -> tuple[bool, str]:
    try:
        import PySide6.QtWebEngineWidgets  # noqa: F401
    except ImportError as exc:
        return False, f"QtWebEngine is not available ({exc})"
    return True, ""


def _make_interceptor() -> Any:
    from PySide6.QtWebEngineCore import QWebEngineUrlRequestInterceptor

    class LocalOnly(QWebEngineUrlRequestInterceptor):
        """Blocks every request that does not go to this machine (Netron's analytics, fonts...)."""

        def __init__(self) -> None:
            super().__init__()
            self.blocked: list[str] = []

        def interceptRequest(self, info: Any) -> None:  # noqa: N802 - Qt's name
            url = info.requestUrl()
            if url.scheme() in ("http", "https", "ws", "wss") and url.host() not in LOCAL_HOSTS:
                self.blocked.append(url.toString())
                info.block(True)

    return LocalOnly()


class QtGraphView(QWidget):
    """``loaded(bool)`` when Netron's page has loaded."""

    loaded = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.address: tuple[str, int] | None = None
        self.path: Path | None = None
        self.url: str | None = None
        self.view: Any = None
        self.interceptor: Any = None
        self.label = QLabel("The chosen artifact's graph appears here.")
        self.label.setWordWrap(True)
        self.browser_button = QPushButton("Open in the system browser")
        self.browser_button.hide()
        self.browser_button.clicked.connect(self._open_in_browser)
        placeholder = QWidget()
        column = QVBoxLayout(placeholder)
        column.addWidget(self.label)
        column.addWidget(self.browser_button)
        column.addStretch(1)
        self.stack = QStackedWidget()
        self.stack.addWidget(placeholder)
        self.int8 = diagnostics_beside()  # an int8 model's tensors, float32 and int8 side by side
        splitter = QSplitter()
        splitter.addWidget(self.stack)
        splitter.addWidget(self.int8)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _ensure_view(self) -> bool:
        if self.view is not None:
            return True
        available, reason = webengine_available()
        if not available:
            self.label.setText(f"The graph cannot be shown inside the window: {reason}.")
            self.browser_button.show()
            return False
        if os.geteuid() == 0:
            os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
        from PySide6.QtWebEngineCore import QWebEngineProfile
        from PySide6.QtWebEngineWidgets import QWebEngineView

        self.interceptor = _make_interceptor()
        QWebEngineProfile.defaultProfile().setUrlRequestInterceptor(self.interceptor)
        self.view = QWebEngineView()
        self.view.loadFinished.connect(self.loaded.emit)
        self.stack.addWidget(self.view)
        return True

    def show_file(self, path: Path) -> None:
        import netron

        self.stop()
        self.path = path
        self.int8.show_for_file(path)
        host, port = netron.start(str(path), address=("127.0.0.1", 0), browse=False)
        self.address = (host, port)
        self.url = f"http://{host}:{port}/"
        if not self._ensure_view():
            self.label.setText(f"{path.name} is served by Netron at {self.url}; open it in the system browser.")
            return
        from PySide6.QtNetwork import QNetworkCookie
        from PySide6.QtWebEngineCore import QWebEngineProfile

        profile = QWebEngineProfile.defaultProfile()
        self._cookies = profile.cookieStore()  # keep a reference: a temporary is deleted under our feet
        self._cookies.setCookie(QNetworkCookie(b"consent", b"1"), QUrl(self.url))
        self.view.setUrl(QUrl(self.url))
        self.stack.setCurrentWidget(self.view)

    def clear(self) -> None:
        """Show nothing (another model was selected)."""
        self.stop()
        self.path, self.url = None, None
        self.stack.setCurrentIndex(0)

    def _open_in_browser(self) -> None:
        if self.url:
            QDesktopServices.openUrl(QUrl(self.url))

    def stop(self) -> None:
        if self.address is not None:
            import netron

            netron.stop(self.address)
            self.address = None
