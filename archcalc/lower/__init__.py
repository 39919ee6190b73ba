"""Reference lowering: spec -> torch.nn.Module, ONNX export and run, verification against the engine.

torch, onnx and onnxruntime are imported only inside these modules' functions.
"""
