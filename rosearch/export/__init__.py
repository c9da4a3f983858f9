"""Export a study's best students as self-contained model folders (weights, code, ONNX, card)."""
