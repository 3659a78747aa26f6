"""The JSON API's response schemas: one Pydantic model per concept, one module per area.

Every ``/api/v1`` route declares one of these as its response model, so the OpenAPI document
describes what the API really returns, and the CLI's ``--json`` output dumps the same models
(``model_dump(mode="json")``) so each shape is defined once. Money is integer pence in keys
ending ``_pence``; times are ISO 8601 text; exact decimals are text, never floats.
"""
