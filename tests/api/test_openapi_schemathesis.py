"""schemathesis against /openapi.json: no 5xx and no response that breaks its own schema.

Every operation of the document gets a bounded number of generated requests (valid and
invalid ones), run through the ASGI app; schemathesis checks status codes, content types
and response bodies against the document.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chaintrail.api.app import ApiSettings, create_app
from chaintrail.hub.setup import init_hub

EXAMPLES_PER_OPERATION = 12


def test_no_server_errors_and_responses_match_schema(store_dir):
    init_hub(store_dir, None)  # the /v1/hub operations run against a real hub (SQLite in the store)
    app = create_app(ApiSettings(store_dir, auth=False, rate_limit=0))
    app.state.ctx.warm()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 60  # the whole GraphSense table, entity aliases, /v1 and /v1/hub
    assert sum(op.path.startswith("/v1/hub/") for op in operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            # A schema-valid string can still be a malformed address or hash (bad checksum,
            # wrong length): that is a documented 400, so "positive data" may be refused.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
