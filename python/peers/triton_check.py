"""Checks `inferbench serve` with the official Triton HTTP client (tritonclient[http]).

Usage: python triton_check.py HOST:PORT MODEL

Serving the synthetic model with payload_bytes=16 (each row's output is its own first 8 bytes),
it asks for readiness and metadata, then infers with JSON and with binary tensors, inputs and
outputs, and checks every answer. Exits 0 when all agree, 1 with the first difference."""

import sys

import numpy as np
import tritonclient.http as httpclient


def main() -> int:
    url, model = sys.argv[1], sys.argv[2]
    client = httpclient.InferenceServerClient(url=url)
    assert client.is_server_live() and client.is_server_ready(), "server not live and ready"
    assert client.is_model_ready(model), f"{model} not ready"
    meta = client.get_model_metadata(model)
    inputs, outputs = meta["inputs"], meta["outputs"]
    assert [(i["name"], i["datatype"], i["shape"]) for i in inputs] == [("input0", "UINT8", [-1, 16])], inputs
    assert [(o["name"], o["datatype"], o["shape"]) for o in outputs] == [("output0", "UINT8", [-1, 8])], outputs
    rng = np.random.default_rng(7)
    for binary_in in (False, True):
        for binary_out in (False, True):
            x = rng.integers(0, 256, size=(1, 16), dtype=np.uint8)
            tensor = httpclient.InferInput("input0", [1, 16], "UINT8")
            tensor.set_data_from_numpy(x, binary_data=binary_in)
            wanted = httpclient.InferRequestedOutput("output0", binary_data=binary_out)
            result = client.infer(model, [tensor], outputs=[wanted], request_id=f"{binary_in}-{binary_out}")
            got = result.as_numpy("output0")
            if got is None or got.shape != (1, 8) or not np.array_equal(got, x[:, :8]):
                print(f"binary in {binary_in}, out {binary_out}: sent {x[0, :8]}, got {got}", file=sys.stderr)
                return 1
            assert result.get_response()["id"] == f"{binary_in}-{binary_out}"
    print("tritonclient: readiness, metadata and 4 inferences (JSON and binary, in and out) agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
