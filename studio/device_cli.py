"""``sb3-studio device add|list|check|remove``: the user's own devices, reached over SSH."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_FAILED = 1
EXIT_USAGE = 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    device = sub.add_parser(
        "device", help="devices reached over SSH (a Raspberry Pi with a Coral, an Edge TPU compile host)",
        description="Add, list, check and remove the devices that run bundles, benchmarks and the Edge TPU "
                    "compiler for the studio. Stored in $XDG_CONFIG_HOME/sb3-studio (~/.config by default).")
    actions = device.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a device", description="Add a device. Nothing is sent to it yet: "
                                                                     "'device check' makes the first contact.")
    add.add_argument("name", help="a short name: letters, digits, '.', '_', '-'")
    add.add_argument("url", metavar="ssh://user@host[:port]")
    add.add_argument("--identity", metavar="KEY", help="private key to log in with (referenced, never copied; "
                                                       "default: your ~/.ssh keys and ssh-agent)")
    add.add_argument("--python", metavar="PATH", default="python3", help="the Python that runs bundles there (python3)")
    add.add_argument("--compile-host", action="store_true", help="an x86-64 machine with Google's edgetpu_compiler")
    add.add_argument("--edgetpu-compiler", metavar="PATH", default="edgetpu_compiler",
                     help="the compiler's path there (edgetpu_compiler, found on PATH)")
    add.add_argument("--replace", action="store_true", help="replace a device of the same name")
    add.set_defaults(func=cmd_add)

    listing = actions.add_parser("list", help="list the devices")
    listing.add_argument("--json", action="store_true", help="emit JSON")
    listing.set_defaults(func=cmd_list)

    check = actions.add_parser("check", help="reach a device and say what it can run",
                               description="Connect, then report the Python, the TFLite interpreters, the Edge TPU "
                                           "delegate, an attached Coral, ONNX Runtime and the Edge TPU compiler; "
                                           "what is missing and how to install it. Exit 1 if the device cannot "
                                           "do what it is for.")
    check.add_argument("name")
    check.add_argument("--accept-new-host-key", action="store_true",
                       help="on first contact, record the device's host key (check its fingerprint first)")
    check.add_argument("--json", action="store_true", help="emit JSON")
    check.set_defaults(func=cmd_check)

    remove = actions.add_parser("remove", help="remove a device (its key file and host key stay)")
    remove.add_argument("name")
    remove.set_defaults(func=cmd_remove)


def cmd_add(args: argparse.Namespace) -> int:
    from .core.devices.store import Device, DeviceStore, check_name, parse_url

    try:
        check_name(args.name)
        user, host, port = parse_url(args.url)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    identity = None
    if args.identity:
        key = Path(args.identity).expanduser().resolve()
        if not key.is_file():
            print(f"error: {args.identity}: no such key file", file=sys.stderr)
            return EXIT_USAGE
        if key.suffix == ".pub":
            print(f"error: {args.identity}: a public key; give the private key beside it", file=sys.stderr)
            return EXIT_USAGE
        identity = str(key)
    device = Device(args.name, host, user, port, identity, args.python, args.compile_host, args.edgetpu_compiler)
    store = DeviceStore()
    store.add(device, replace=args.replace)
    print(f"added {device.name}: {device.url}; next: sb3-studio device check {device.name}", file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .core.devices.store import DeviceStore

    devices = DeviceStore().devices()
    if args.json:
        print(json.dumps({name: {"url": d.url, **d.to_json()} for name, d in devices.items()}, indent=2))
        return 0
    if not devices:
        print("no devices yet: sb3-studio device add NAME ssh://user@host", file=sys.stderr)
        return 0
    rows = [("name", "address", "python", "role", "last check")]
    for device in devices.values():
        rows.append((device.name, device.url, device.python, "compile host" if device.compile_host else "runs bundles",
                     _last_check(device.last_check)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return 0


def _last_check(found: dict | None) -> str:
    if not found:
        return "never"
    parts = [found.get("time", "?"), "ready" if found.get("ready") else "not ready", found.get("interpreter") or "no TFLite"]
    if found.get("coral"):
        parts.append("Coral" + ("" if found.get("edgetpu_delegate") else " (no delegate)"))
    if found.get("edgetpu_compiler"):
        parts.append("edgetpu_compiler")
    return ", ".join(parts)


def cmd_check(args: argparse.Namespace) -> int:
    from .core.devices.probe import check_device
    from .core.devices.store import DeviceStore
    from .core.errors import DeviceError

    store = DeviceStore()
    device = store.get(args.name)  # an unknown name is a usage error (exit 2)
    try:
        report = check_device(device, store, accept_new_host_key=args.accept_new_host_key)
    except DeviceError as exc:
        if args.json:
            print(json.dumps({"device": device.name, "url": device.url, "reachable": False, "error": exc.line(),
                              "kind": type(exc).__name__}, indent=2))
        print(f"error: {exc.line()}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return 0 if report.ready else EXIT_FAILED
    print(f"{report.device}  {report.url}  reachable in {report.seconds:.1f} s, host key {report.host_key}")
    width = max(len(f.item) for f in report.findings)
    for finding in report.findings:
        mark = {"ok": "ok     ", "missing": "MISSING", "absent": "absent "}[finding.status]
        print(f"  {finding.item.ljust(width)}  {mark}  {finding.detail}")
    todo = [f for f in report.findings if f.status != "ok" and f.hint]
    if todo:
        print("\nto install:")
        for finding in todo:
            print(f"  {finding.item}: {finding.hint}")
    print("\nready" if report.ready else "\nnot ready: install what is marked MISSING")
    return 0 if report.ready else EXIT_FAILED


def cmd_remove(args: argparse.Namespace) -> int:
    from .core.devices.store import DeviceStore
    from .core.devices.workspace import pending

    store = DeviceStore()
    device = store.remove(args.name)
    print(f"removed {device.name} ({device.url})", file=sys.stderr)
    for path in pending(store, device):
        print(f"  left on the device by a dropped connection: {path} (remove it there by hand)", file=sys.stderr)
    return 0
