"""Locust's side of benchmarks/http-generator.sh: FastHttpUser users posting the same OIP
infer body as inferbench and wrk, back to back (no wait), each answer's status checked."""

import os

from locust import FastHttpUser, constant, task

BODY = os.environ["BENCH_BODY"]


class Infer(FastHttpUser):
    wait_time = constant(0)

    @task
    def infer(self) -> None:
        self.client.post("/v2/models/echo/infer", data=BODY, headers={"Content-Type": "application/json"})
