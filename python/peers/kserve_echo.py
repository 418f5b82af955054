"""A KServe model server (kserve from PyPI) serving one model, `echo`, over the Open Inference
Protocol: a foreign target for `inferbench load --target` in the end-to-end tests.

Usage: python kserve_echo.py PORT

`echo` takes input0 UINT8 [-1, 16] and answers output0 UINT8 [-1, 8], each row's first 8 bytes.
KServe binds every interface; the tests talk to it on 127.0.0.1 only, and stop it after."""

import sys

import numpy as np
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer


class Echo(Model):
    def __init__(self) -> None:
        super().__init__("echo")
        self.ready = True

    def get_input_types(self) -> list[dict]:
        return [{"name": "input0", "datatype": "UINT8", "shape": [-1, 16]}]

    def get_output_types(self) -> list[dict]:
        return [{"name": "output0", "datatype": "UINT8", "shape": [-1, 8]}]

    def predict(self, payload: InferRequest, headers: dict | None = None) -> InferResponse:
        rows = payload.inputs[0].as_numpy().reshape(-1, 16)
        first = np.ascontiguousarray(rows[:, :8])
        out = InferOutput(name="output0", shape=list(first.shape), datatype="UINT8")
        out.set_data_from_numpy(first, binary_data=False)
        return InferResponse(model_name=self.name, infer_outputs=[out], response_id=payload.id)


if __name__ == "__main__":
    port = int(sys.argv[1])
    ModelServer(http_port=port, grpc_port=port + 1, enable_grpc=False, workers=1).start([Echo()])
