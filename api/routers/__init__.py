"""One router per resource; each carries the `/v1` prefix itself so that route templates
(used in request logs) are the full path."""

V1 = "/v1"
