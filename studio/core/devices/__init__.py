"""The user's own devices, reached over SSH: a Raspberry Pi with a Coral, an x86-64 compile host.

- :mod:`.store`: the devices the user added, in ``$XDG_CONFIG_HOME/sb3-studio/devices.json``.
- :mod:`.host_keys`: the studio's own ``known_hosts``; first contact must be accepted, a changed key
  is always refused.
- :mod:`.ssh`: a connection (paramiko) that runs commands with a time limit and copies files.
- :mod:`.workspace`: a temporary folder on the device, journalled locally so that a folder left by a
  dropped connection is removed on the next contact.
- :mod:`.probe`: what a device offers (Python, TFLite interpreters, the Edge TPU, a Coral, the compiler).
- :mod:`.remote_bench` and :mod:`.remote_compile`: a device bundle's check and the Edge TPU compiler,
  run on the device.

Nothing here imports Qt; the GUI passes a callback to ask about a new host key.
"""
