"""Schemathesis over the whole API, in the suite: generated requests (valid and invalid, a
bounded number per operation) with a real token; no 5xx and no response outside the
document."""

from __future__ import annotations

import pytest
import schemathesis
from api_support import bearer, make_dispute, petition_body, token_for
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES_PER_OPERATION = 8


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_document_violation(app, world, now, client):
    headers = bearer(token_for(world.supervisor, now))
    # a few real cases, so that generated ids (small integers) sometimes find one
    for n in range(3):
        client.post("/api/v1/cases", json=petition_body(world, external_ref=f"S-{n}"),
                    headers=headers)
        make_dispute(world, now)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      derandomize=True, suppress_health_check=list(HealthCheck))
            @given(operation.as_strategy(generation_mode=mode))
            def run(case) -> None:
                response = case.call_and_validate(
                    headers=headers, checks=[not_a_server_error, response_schema_conformance])
                statuses.append(response.status_code)

            try:
                run()
            except Exception as exc:  # collect every operation's failure, then report all
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    documented = client.get("/api/v1/openapi.json").get_json()["paths"]
    # schemathesis leaves out the document's own operation
    assert operations == sum(len(ops) for ops in documented.values()) - 1
    assert len(statuses) >= operations * 4, "too few generated requests reached the API"
    print(f"schemathesis: {operations} operations, {len(statuses)} requests, "
          f"statuses {sorted(set(statuses))}")
    assert not failures, "\n\n".join(failures)
