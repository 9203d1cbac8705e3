"""Deploying beyond Python: TorchScript for C++, the browser, microcontrollers and a device bundle.

Each target is made from the studio's exact-action graph and checked in the runtime the user will
deploy with (libtorch from C++, onnxruntime-web under Node, the TFLite Micro interpreter, the bundle's
own runner). A runtime that is missing here is reported as not available, with why and how to get it.
"""
