"""Local AI: the model manifest and bundles (bundles.py) and the ONNX Runtime sessions (../media/onnx.py).

Nothing here imports a heavy AI library at module level: the server only reads the manifest and
checks files; inference happens in worker processes.
"""
