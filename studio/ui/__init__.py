"""The Qt face of SB3 Studio. The only package that imports PySide6 or pyqtgraph."""
