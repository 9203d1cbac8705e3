"""Typed errors raised by the core.

Every error names the file it is about and the problem in one line (``str(error)``), so the CLI can
print it as is and the GUI can show it on the row it belongs to. Extra data stays on the instance.
"""

from __future__ import annotations

from pathlib import Path


class StudioError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, path: str | Path | None, problem: str, hint: str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        self.hint = hint
        super().__init__(self.line())

    def line(self) -> str:
        text = f"{self.path}: {self.problem}" if self.path is not None else self.problem
        if self.hint:
            text += f" ({self.hint})"
        return text


class ModelLoadError(StudioError):
    """A model file could not be read as a Stable-Baselines3 model."""


class NotAZipError(ModelLoadError):
    pass


class NotAModelError(ModelLoadError):
    pass


class TruncatedFileError(ModelLoadError):
    pass


class MissingWeightsError(ModelLoadError):
    pass


class UnknownAlgorithmError(ModelLoadError):
    def __init__(self, path: str | Path, policy_class: str, known: list[str]) -> None:
        self.policy_class = policy_class
        super().__init__(
            path,
            f"unknown algorithm: policy class {policy_class} is not one of the supported algorithms' policies",
            "supported: " + ", ".join(known),
        )


class ForbiddenClassError(ModelLoadError):
    """A pickle in the file names a class outside the allow-list; nothing from it was run."""

    def __init__(self, path: str | Path, class_name: str, entry: str) -> None:
        self.class_name = class_name
        self.entry = entry
        super().__init__(
            path,
            f"refused to load: entry '{entry}' needs the class {class_name}, which is not on the allow-list",
            "if you trust this file and its code, load it with --trust",
        )


class NormalizationError(StudioError):
    """A vecnormalize.pkl could not be read or does not fit the model."""


class ZooFileError(StudioError):
    """A zoo file beside a model (config.yml, args.yml, env_kwargs.yml) cannot be read."""


class EnvironmentUnavailableError(StudioError):
    """The model's environment cannot be made on this machine."""


class OutputExistsError(StudioError):
    """An output would overwrite an existing file."""


class OutputNotWritableError(StudioError):
    """The output folder cannot be written."""


class RunFolderError(StudioError):
    """A run folder (given to bench, or opened in the window) is not one the studio wrote."""


class StageError(StudioError):
    """A pipeline stage failed."""


class ExportError(StageError):
    pass


class VerificationFailed(StageError):
    """An artifact acts differently from the original beyond the thresholds."""


class DeviceError(StudioError):
    """A device (a board reached over SSH) could not be used. ``path`` is the device's name."""


class DeviceNotFound(DeviceError):
    pass


class DeviceUnreachable(DeviceError):
    """No SSH connection: the host did not answer, refused the connection or its name is unknown."""


class AuthenticationRefused(DeviceError):
    """The device refused the key (or no key was usable)."""


class HostKeyUnknown(DeviceError):
    """First contact: the device's host key is not yet in the studio's known_hosts."""

    def __init__(self, device: str, host: str, key_type: str, fingerprint: str) -> None:
        self.host, self.key_type, self.fingerprint = host, key_type, fingerprint
        super().__init__(device, f"{host} is not known yet: its {key_type} host key is {fingerprint}",
                         "check the fingerprint on the device (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then "
                         f"run 'sb3-studio device check {device} --accept-new-host-key'")


class HostKeyChanged(DeviceError):
    """The device offers a host key other than the one recorded: never accepted."""

    def __init__(self, device: str, host: str, known_hosts: Path, expected: str, offered: str) -> None:
        self.host, self.expected, self.offered = host, expected, offered
        super().__init__(device, f"the host key of {host} has changed (recorded {expected}, offered {offered}): "
                                 "someone may be intercepting the connection, so nothing was sent",
                         "if the device was reinstalled and you trust the new key, remove the old one with: "
                         f"ssh-keygen -f {known_hosts} -R '{host}', then check the device again")


class RemoteCommandError(DeviceError):
    """A command on the device failed or could not run (no Python, no runtime, bad output)."""


class RemoteTimeout(DeviceError):
    """A command on the device did not finish in time; it was stopped and its folder removed."""


class ConnectionDropped(DeviceError):
    """The connection ended in the middle of a command; the remote folder is removed on the next contact."""


class Cancelled(Exception):
    """The user asked to stop. Not an error: the runner reports it as a cancelled stage."""
